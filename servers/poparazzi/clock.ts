// The time source of the Poparazzi rules, injected so tests can move time by hand.
// Milliseconds, like Date.now().

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
