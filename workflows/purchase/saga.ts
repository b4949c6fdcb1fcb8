// The saga of a paid purchase: each step that took effect registers how to undo it, and a
// cancellation or a step refused for good runs the compensations newest first.

/** Undoes one step. False: it cannot be undone (the card is in use), so compensating stops there. */
export type Compensation = (reason: string) => Promise<boolean>;

export class Saga {
  private readonly compensations: Compensation[] = [];

  add(compensation: Compensation): void {
    this.compensations.push(compensation);
  }

  /**
   * Runs `inFlight` (the compensation of a step abandoned before it finished) and then the
   * registered ones, newest first. False as soon as one refuses: the rest do not run, and the
   * steps go on.
   */
  async compensate(reason: string, inFlight?: Compensation): Promise<boolean> {
    const newestFirst = inFlight ? [inFlight, ...this.compensations.toReversed()] : this.compensations.toReversed();
    for (const compensation of newestFirst) {
      if (!(await compensation(reason))) return false;
    }
    return true;
  }
}
