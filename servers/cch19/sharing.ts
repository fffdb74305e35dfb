// How day 19 joins other processes: the interface a shared mode implements (shared-redis.ts does, over
// Redis). Without one, registerDay19 is the one-process service and the view count is the BirdApp's own.

import type { BirdAppHooks } from './bird-app.ts';

/** The part of the BirdApp a shared mode drives: relayed tweets in, the local count out. */
export interface SharedBirdApp {
  deliver(room: string, text: string): number;
  memberCount(room: string): number;
  readonly views: number;
  resetViews(): void;
}

export interface Day19Sharing extends BirdAppHooks {
  /** Start relaying: tweets posted on other processes reach this app's members through `deliver`. */
  attach(app: SharedBirdApp): void;
  /** The views of every process together. */
  views(): Promise<number>;
  /** Reset the count on every process; false when that cannot be done now (the shared store is unreachable). */
  reset(): Promise<boolean>;
}
