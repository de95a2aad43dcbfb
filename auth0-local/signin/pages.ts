/**
 * The HTML of the sign-in pages, shaped like Auth0's Universal Login: one small form per page, every input with a
 * visible label (so `getByLabel('Email')` finds it), errors in a `role="alert"` line. No scripts: the pages work with
 * plain form posts, and the CSP forbids everything else.
 */
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Headers for every page: never cached (they carry one-time state), never framed (clickjacking of the form). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  // No form-action: browsers apply it to the redirect after a post, which goes to the application.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; frame-ancestors 'none'",
};

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:4rem 1rem;padding:2.5rem;border-radius:8px;max-width:22rem;width:100%;box-shadow:0 2px 12px #0002}
h1{font-size:1.5rem;margin:0 0 .5rem}p{color:#374151}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #9ca3af;border-radius:4px;font-size:1rem}
input[readonly]{background:#f3f4f6}button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:4px;
background:#4338ca;color:#fff;font-size:1rem;cursor:pointer}[role=alert]{color:#b91c1c;font-weight:600}
img{max-height:3rem;margin-bottom:1rem}`;

function document(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${main}
</main></body>
</html>
`;
}

function alert(error: string | undefined): string {
  return error ? `<p role="alert" id="error-message">${escapeHtml(error)}</p>` : '';
}

export interface LoginPageModel {
  /** The login transaction id, posted back in the hidden `state` field. */
  transaction: string;
  clientName: string;
  orgName?: string | undefined;
  logoUrl?: string | undefined;
  email?: string | undefined;
  /** The invitee's address: shown, not editable. */
  emailLocked?: boolean;
  error?: string | undefined;
}

function heading(model: LoginPageModel, verb: string): string {
  const logo = model.logoUrl
    ? `<img src="${escapeHtml(model.logoUrl)}" alt="${escapeHtml(model.orgName ?? '')}">`
    : '';
  const where = model.orgName
    ? `${verb} to ${escapeHtml(model.orgName)} to continue to ${escapeHtml(model.clientName)}.`
    : `${verb} to continue to ${escapeHtml(model.clientName)}.`;
  return `${logo}<h1>Welcome</h1>\n<p>${where}</p>`;
}

function emailInput(model: LoginPageModel): string {
  const value = model.email ? ` value="${escapeHtml(model.email)}"` : '';
  const locked = model.emailLocked ? ' readonly' : ' autofocus';
  return `<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" required${value}${locked}>`;
}

/** Log in and sign up ask for the same two fields; the password's autocomplete tells password managers which. */
function credentialsPage(
  model: LoginPageModel,
  verb: 'Log in' | 'Sign up',
  action: '/u/login' | '/u/signup',
  passwordAutocomplete: 'current-password' | 'new-password',
): string {
  return document(
    `${verb} | ${model.clientName}`,
    `${heading(model, verb)}
${alert(model.error)}
<form method="post" action="${action}">
<input type="hidden" name="state" value="${escapeHtml(model.transaction)}">
${emailInput(model)}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="${passwordAutocomplete}" required>
<button type="submit" name="action" value="default">Continue</button>
</form>`,
  );
}

export const loginPage = (model: LoginPageModel): string =>
  credentialsPage(model, 'Log in', '/u/login', 'current-password');

export const signupPage = (model: LoginPageModel): string =>
  credentialsPage(model, 'Sign up', '/u/signup', 'new-password');

export function resetPasswordPage(model: {
  ticket: string;
  action: string;
  email?: string | undefined;
  error?: string | undefined;
}): string {
  const who = model.email ? `<p>Enter a new password for ${escapeHtml(model.email)}.</p>` : '';
  return document(
    'Change your password',
    `<h1>Change your password</h1>
${who}
${alert(model.error)}
<form method="post" action="${escapeHtml(model.action)}">
<input type="hidden" name="ticket" value="${escapeHtml(model.ticket)}">
<label for="new-password">New password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" required autofocus>
<label for="confirm-new-password">Confirm new password</label>
<input id="confirm-new-password" name="confirm_password" type="password" autocomplete="new-password" required>
<button type="submit">Reset password</button>
</form>`,
  );
}

/** Auth0's error page ("Oops!, something went wrong") with the OAuth error code and its description. */
export function errorPage(error: string, description: string): string {
  return document(
    'Error',
    `<h1>Oops!, something went wrong</h1>
<p role="alert" id="error-message"><code>${escapeHtml(error)}</code>: ${escapeHtml(description)}</p>`,
  );
}

export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  const back = link ? `\n<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  return document(title, `<h1>${escapeHtml(title)}</h1>\n<p role="status">${escapeHtml(text)}</p>${back}`);
}
