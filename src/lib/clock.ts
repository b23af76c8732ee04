/** Time source, injected so that expiry and refresh logic can be tested without waiting. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
