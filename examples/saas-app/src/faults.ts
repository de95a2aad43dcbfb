/**
 * Fault injection for tests: make the app look down, or answer the next few matching messages with an error status
 * — before doing anything, or after doing the work and committing it (an answer lost on the way back, which is what
 * the idempotency table is for).
 */
export interface Fault {
  status: number;
  times: number;
  /** The message type it applies to, e.g. `hook.after-auth0`; any type when absent. */
  match?: string;
  /** Do the work and commit it, then answer `status` anyway. */
  afterProcessing?: boolean;
}

export interface Faults {
  inject(fault: Fault): void;
  setDown(down: boolean): void;
  readonly down: boolean;
  /** Takes one use of the first injected fault that matches `type`, if any. */
  take(type: string | undefined): Fault | undefined;
}

export function createFaults(enabled: boolean): Faults {
  const pending: Fault[] = [];
  let down = false;
  const requireEnabled = (what: string): void => {
    if (!enabled)
      throw new Error(`${what} needs fault injection: start the app with startSaasApp({ faults: true })`);
  };
  return {
    inject(fault) {
      requireEnabled('injectFault');
      if (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 599) {
        throw new Error(`injectFault: status must be a final HTTP status (200-599), got ${fault.status}`);
      }
      if (!Number.isInteger(fault.times) || fault.times < 1) {
        throw new Error(`injectFault: times must be a positive integer, got ${fault.times}`);
      }
      pending.push({ ...fault });
    },
    setDown(value) {
      requireEnabled('setDown');
      down = value;
    },
    get down() {
      return down;
    },
    take(type) {
      const index = pending.findIndex((fault) => fault.match === undefined || fault.match === type);
      const fault = pending[index];
      if (!fault) return undefined;
      fault.times -= 1;
      if (fault.times === 0) pending.splice(index, 1);
      return fault;
    },
  };
}
