/**
 * Managing the application's hook endpoints, for the CLI and the HTTP API alike: validate (every field and rule
 * reported at once, before anything is stored), store with the secret sealed, list without secrets, remove, and send
 * a signed test message.
 */
import { randomUUID } from 'node:crypto';

import { hookInputSchema, type HookConfig } from '../domain/app-hooks.js';
import { OrgadminError } from '../domain/errors.js';
import { invalid, zodIssues } from '../domain/spec-document.js';
import type { AppHook, AppHookStore, RunHooks, SendWebhook } from '../ports/app-hooks.js';

export interface HookTestResult {
  ok: boolean;
  status: number | null;
  /** Why the call failed (network, refused address, timeout) or the start of a non-2xx answer. */
  detail: string | null;
}

export interface AppHookService {
  add(input: unknown, actor: string): Promise<AppHook>;
  list(): Promise<AppHook[]>;
  remove(name: string, actor: string): Promise<void>;
  test(name: string): Promise<HookTestResult>;
  /** Enables a hook that was disabled after failed event deliveries. */
  enable(name: string, actor: string): Promise<void>;
}

/** The hooks as the engine sees them: the phases to plan, and a signed call with the secret opened just for it. */
export function runHooks(hooks: AppHookStore, sendWebhook: SendWebhook): RunHooks {
  return {
    async planned() {
      return (await hooks.listHooks())
        .filter((hook) => hook.phases.length > 0)
        .map((hook) => ({ name: hook.name, phases: hook.phases }));
    },
    async call(name, message) {
      const hook = await hooks.getHook(name);
      const secret = await hooks.hookSecret(name);
      if (!hook || secret === undefined) throw new OrgadminError('hook.not_found', `No hook named ${name}.`);
      return sendWebhook({ url: hook.url, secret, allowPrivateNetwork: hook.allowPrivateNetwork }, message);
    },
  };
}

export function validateHook(input: unknown): HookConfig {
  const result = hookInputSchema.safeParse(input);
  if (result.success) return result.data;
  throw invalid('hook.invalid', 'hook', zodIssues(result.error));
}

export function createAppHookService(hooks: AppHookStore, sendWebhook: SendWebhook): AppHookService {
  const caller = runHooks(hooks, sendWebhook);
  return {
    add: (input, actor) => hooks.addHook(validateHook(input), actor),
    list: () => hooks.listHooks(),
    async remove(name, actor) {
      if (!(await hooks.removeHook(name, actor)))
        throw new OrgadminError('hook.not_found', `No hook named ${name}.`);
    },
    async enable(name, actor) {
      if (!(await hooks.enableHook(name, actor)))
        throw new OrgadminError('hook.not_found', `No hook named ${name}.`);
    },
    async test(name) {
      try {
        const answer = await caller.call(name, {
          id: `msg_test_${randomUUID()}`,
          type: 'hook.test',
          data: { hook: name },
        });
        const ok = answer.status >= 200 && answer.status < 300;
        return { ok, status: answer.status, detail: ok ? null : answer.body.slice(0, 500) };
      } catch (error) {
        if (error instanceof OrgadminError) throw error; // no such hook
        return { ok: false, status: null, detail: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
