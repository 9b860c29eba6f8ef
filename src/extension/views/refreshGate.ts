// Refreshes of a tree view, one at a time. VS Code registers every item id a root getChildren returns; when a second
// refresh fires while the first root listing is still running, both listings register the same ids and the view
// fails with "Element with id group:other is already registered". So a refresh asked for during a listing is held
// until that listing ends, and refreshes asked for together are fired once.
export class RefreshGate {
  private listing = 0;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly fire: () => void) {}

  /** Asks for a refresh: fired shortly, or after the root listing in progress. */
  request(): void {
    if (this.listing > 0) {
      this.pending = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, 20);
  }

  /** Runs a root listing; refreshes asked for meanwhile fire once it is done. */
  async whileListing<T>(list: () => Promise<T>): Promise<T> {
    this.listing++;
    try {
      return await list();
    } finally {
      this.listing--;
      if (this.listing === 0 && this.pending) {
        this.pending = false;
        this.request();
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
