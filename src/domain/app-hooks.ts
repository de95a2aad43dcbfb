/**
 * Application hooks: HTTPS endpoints of the SaaS application that take part in runs (issue 7). This module holds
 * what a hook's configuration must satisfy before anything is stored or called: an https URL (plain http only on
 * the loopback interface, for local development), no address inside private networks unless the installation says
 * so, at least one phase or lifecycle event, and a Standard Webhooks signing secret. The delivery adapter checks the address it
 * actually connects to as well, since a host name can resolve anywhere.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

import { EVENT_SUBSCRIPTIONS } from './lifecycle-events.js';

export const HOOK_PHASES = ['before-auth0', 'after-auth0', 'on-remove', 'on-compensate'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

/** Standard Webhooks secrets: `whsec_` and the base64 of 24 to 64 random bytes. */
const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** The address kinds a hook may only reach with `allowPrivateNetwork` (ipaddr.js range names). */
const PUBLIC_RANGES = new Set(['unicast']);

/** Whether a host is an IP literal outside the public internet, or a name that always means this machine. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(host)) return false;
  let address = ipaddr.parse(host);
  // IPv4-mapped IPv6 (`::ffff:7f00:1`) is the IPv4 address in disguise.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress())
    address = (address as ipaddr.IPv6).toIPv4Address();
  return !PUBLIC_RANGES.has(address.range());
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.parse(host).range() === 'loopback';
}

export const hookInputSchema = z
  .strictObject({
    name: z
      .string({ error: 'must be a string' })
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lowercase letters, digits, "_" or "-"'),
    url: z.string({ error: 'is required' }).max(2048, 'must be at most 2048 characters'),
    secret: z
      .string({
        error: 'is required: the Standard Webhooks signing secret (whsec_…) the application verifies with',
      })
      .regex(SECRET_PATTERN, 'must be a Standard Webhooks secret: "whsec_" followed by base64')
      .refine((secret) => {
        const base64 = secret.slice('whsec_'.length);
        const bytes = (base64.length * 3) / 4 - (base64.match(/=+$/)?.[0].length ?? 0);
        return bytes >= 24 && bytes <= 64;
      }, 'must encode 24 to 64 random bytes'),
    phases: z
      .array(z.enum(HOOK_PHASES, { error: `must be one of ${HOOK_PHASES.join(', ')}` }))
      .refine((phases) => new Set(phases).size === phases.length, 'must not repeat a phase')
      .default([]),
    /** Lifecycle events the hook receives through the outbox. */
    events: z
      .array(z.enum(EVENT_SUBSCRIPTIONS, { error: `must be one of ${EVENT_SUBSCRIPTIONS.join(', ')}` }))
      .refine((events) => new Set(events).size === events.length, 'must not repeat an event')
      .default([]),
    /** The local flag: allow addresses in private networks (and plain http on loopback) — development only. */
    allowPrivateNetwork: z.boolean().default(false),
  })
  // Checked even when other fields failed, so one answer lists every problem (`hook` may be partly invalid here).
  .check(
    z.superRefine(
      (hook, ctx) => {
        const count = (value: unknown): number => (Array.isArray(value) ? value.length : 1);
        if (count(hook.phases ?? []) + count(hook.events ?? []) === 0)
          ctx.addIssue({
            code: 'custom',
            path: ['phases'],
            message: `must name at least one phase (${HOOK_PHASES.join(', ')}) unless events are given`,
          });
        if (typeof hook.url !== 'string') return;
        let url: URL;
        try {
          url = new URL(hook.url);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['url'], message: 'must be an absolute URL' });
          return;
        }
        if (url.username || url.password)
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: 'must not carry credentials (user:password@)',
          });
        if (url.hash) ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not have a #fragment' });
        const local = (hook.allowPrivateNetwork as unknown) === true;
        if (url.protocol === 'http:') {
          if (!local || !isLoopback(url.hostname))
            ctx.addIssue({
              code: 'custom',
              path: ['url'],
              message:
                'must be https:// (plain http is allowed only on 127.0.0.1/localhost with allowPrivateNetwork, for local development)',
            });
        } else if (url.protocol !== 'https:') {
          ctx.addIssue({ code: 'custom', path: ['url'], message: 'must be an https:// URL' });
        }
        if (!local && isPrivateHost(url.hostname))
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: `must not point into a private, loopback or link-local network (${url.hostname}) unless allowPrivateNetwork is set`,
          });
      },
      { when: () => true },
    ),
  );

export type HookInput = z.input<typeof hookInputSchema>;
export type HookConfig = z.output<typeof hookInputSchema>;
