/**
 * Reading specs from text: YAML (one or more `---`-separated documents) or JSON (one object, or an array of them).
 * Every problem in every document is reported at once, each with its field path and rule, so an operator fixes a
 * file in one pass; nothing is returned unless every document is valid.
 */
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';

import { OrgadminError, type ErrorCode, type SpecIssue } from './errors.js';
import { formatPath } from './field-path.js';
import { orgSpecSchema, type OrgSpec } from './org-spec.js';

// Re-exported: the server's code imports it from here (src/http/api-route.ts).
export { formatPath };

/** Every problem zod found, each with its field path (as `pathOf` spells it) and the rule. */
export function zodIssues(
  error: z.ZodError,
  pathOf: (path: readonly PropertyKey[]) => string = formatPath,
): SpecIssue[] {
  return error.issues.map((issue) => ({
    path: pathOf(issue.path),
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** The one error for a failed validation: every issue in `details.issues` and, for logs, in the message. */
export function invalid(code: ErrorCode, what: string, issues: SpecIssue[]): OrgadminError {
  return new OrgadminError(
    code,
    `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  );
}

const issuesOf = (error: z.ZodError, prefix: string): SpecIssue[] =>
  zodIssues(error, (path) => `${prefix}${formatPath(path)}`);

/** Validates already-parsed values (e.g. an HTTP request body). */
export function validateSpecs(values: unknown[]): OrgSpec[] {
  const issues: SpecIssue[] = [];
  const specs: OrgSpec[] = [];
  values.forEach((value, index) => {
    const result = orgSpecSchema.safeParse(value);
    if (result.success) specs.push(result.data);
    else issues.push(...issuesOf(result.error, values.length > 1 ? `#${index + 1} ` : ''));
  });
  const names = specs.map((spec) => spec.name);
  names.forEach((name, index) => {
    if (names.indexOf(name) !== index) {
      issues.push({
        path: `#${index + 1} name`,
        message: `organization "${name}" appears in more than one document`,
      });
    }
  });
  if (issues.length > 0) throw invalid('spec.invalid', 'organization spec', issues);
  return specs;
}

/** Parses and validates the text of a spec file. */
export function parseSpecs(text: string, source = 'spec'): OrgSpec[] {
  const trimmed = text.trim();
  let values: unknown[];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new OrgadminError(
        'spec.unreadable',
        `${source}: not valid JSON (${(error as Error).message})`,
        {},
        { cause: error },
      );
    }
    values = Array.isArray(parsed) ? parsed : [parsed];
  } else {
    // Aliases are refused: a spec has no use for them, and alias expansion is how YAML bombs work.
    const documents = parseAllDocuments(trimmed, { uniqueKeys: true });
    const list = Array.isArray(documents) ? documents : [documents];
    values = [];
    for (const [index, document] of list.entries()) {
      const [problem] = document.errors;
      if (problem) {
        throw new OrgadminError(
          'spec.unreadable',
          `${source}: document ${index + 1} is not valid YAML: ${problem.message}`,
        );
      }
      let value: unknown;
      try {
        value = document.toJS({ maxAliasCount: 0 });
      } catch (error) {
        throw new OrgadminError(
          'spec.unreadable',
          `${source}: document ${index + 1}: ${(error as Error).message}`,
          {},
          { cause: error },
        );
      }
      if (value !== null && value !== undefined) values.push(value);
    }
  }
  if (values.length === 0) throw new OrgadminError('spec.unreadable', `${source}: no organization in it`);
  return validateSpecs(values);
}
