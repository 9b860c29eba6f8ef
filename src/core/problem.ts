// Why an attach, detach, discovery or map dump could not do its job, each with the fix. Invalid input is a
// ValidationError (ids.ts), raised before any command runs.

export type CustomCallsProblemKind =
  | 'bpftool-missing'
  | 'not-permitted'
  | 'bpffs-not-mounted'
  | 'connection'
  | 'cancelled'
  | 'timeout'
  | 'no-calls-map'
  | 'wrong-map'
  | 'slot-occupied'
  | 'verifier-rejected'
  | 'verify-failed'
  | 'pin-exists'
  | 'load-failed'
  | 'wrong-program'
  | 'update-failed'
  | 'readback-mismatch'
  | 'not-ours'
  | 'not-found'
  | 'busy'
  | 'program-changed'
  | 'target';

/** After a problem: nothing changed; changed, then rolled back; or not known for certain (see rollbackFailures). */
export type EndpointState = 'unchanged' | 'rolled-back' | 'uncertain';

const STATE_SENTENCES: Record<EndpointState, string> = {
  unchanged: 'Nothing was changed.',
  'rolled-back': 'The changes made so far were rolled back.',
  uncertain: "The endpoint's slots may not be as before.",
};

export class CustomCallsProblem extends Error {
  /** Steps a failed rollback could not undo (empty when everything was restored). */
  rollbackFailures: string[] = [];
  /** What state the endpoint is in after this problem, once known; said once at the end of the message. */
  endpointState: EndpointState | undefined;
  /** The message without the state sentence (for a UI that says the state its own way). */
  readonly reason: string;

  constructor(
    readonly kind: CustomCallsProblemKind,
    message: string,
    readonly fix = '',
  ) {
    super(message);
    this.reason = message;
  }

  /**
   * Records the endpoint's state and says it at the end of the message, unless a state was recorded already (the
   * first one to know it says it). `sentence: null` records it when the message already says it its own way.
   */
  withState(state: EndpointState, sentence: string | null = STATE_SENTENCES[state]): this {
    if (this.endpointState !== undefined) return this;
    this.endpointState = state;
    if (sentence) this.message = `${this.message} ${sentence}`;
    return this;
  }

  get full(): string {
    const extra = this.rollbackFailures.length ? ` Rollback incomplete: ${this.rollbackFailures.join('; ')}.` : '';
    return `${this.fix ? `${this.message} ${this.fix}` : this.message}${extra}`;
  }
}
