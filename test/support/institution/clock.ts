/**
 * HTTP dates have one-second resolution, so two states of a document stamped within the same
 * second would look identical to an If-Modified-Since client. Every tick is therefore at least
 * one second after the previous one, and the initial state is dated a day back.
 */
export class Clock {
  readonly created: Date;
  private last: number;

  constructor(now = Date.now()) {
    this.last = Math.floor(now / 1000) * 1000 - 86_400_000;
    this.created = new Date(this.last);
  }

  tick(): Date {
    this.last = Math.max(Math.floor(Date.now() / 1000) * 1000, this.last + 1000);
    return new Date(this.last);
  }
}
