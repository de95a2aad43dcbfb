/**
 * The port to the application's hook endpoints. Secrets go in once and come out only to sign a delivery
 * (`hookSecret`); listings never carry them.
 */
import type { HookConfig, HookPhase } from '../domain/app-hooks.js';
import type { PlannedHook } from '../domain/plan.js';

export interface AppHook {
  name: string;
  url: string;
  phases: HookPhase[];
  /** Lifecycle events it receives (exact types, `organization.*`, `run.*`, `*`). */
  events: string[];
  allowPrivateNetwork: boolean;
  /** Set when event deliveries failed too long; deliveries wait until the hook is enabled again. */
  disabled: { at: Date; reason: string } | undefined;
  createdBy: string;
  createdAt: Date;
}

export interface AppHookStore {
  /** Stores a validated hook (`hook.exists` when the name is taken); audited without the secret. */
  addHook(hook: HookConfig, actor: string): Promise<AppHook>;
  listHooks(): Promise<AppHook[]>;
  getHook(name: string): Promise<AppHook | undefined>;
  /** The signing secret, for the delivery adapter only. */
  hookSecret(name: string): Promise<string | undefined>;
  /** Removes a hook; false when there was none. Audited. */
  removeHook(name: string, actor: string): Promise<boolean>;
  /** Enables a hook disabled after failed deliveries (its waiting deliveries resume); false when there is none. */
  enableHook(name: string, actor: string): Promise<boolean>;
}

export interface WebhookMessage {
  /** Stable across retries of the same delivery: the receiver's idempotency key. */
  id: string;
  type: string;
  data: unknown;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  allowPrivateNetwork: boolean;
}

export interface WebhookAnswer {
  status: number;
  /** At most the first 64 KiB of the answer. */
  body: string;
}

/** Sends one signed message to a hook endpoint (the delivery adapter). */
export type SendWebhook = (
  target: WebhookTarget,
  message: WebhookMessage,
  options?: { timeoutMs?: number; now?: () => Date },
) => Promise<WebhookAnswer>;

/** What the engine needs of the hooks: which to plan with, and a way to call one (issue 7). */
export interface RunHooks {
  planned(): Promise<PlannedHook[]>;
  /** Sends one signed call to the named hook; rejects with `hook.not_found` when it was removed meanwhile. */
  call(hook: string, message: WebhookMessage): Promise<WebhookAnswer>;
}
