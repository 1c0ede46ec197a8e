/** Debug time-line of one pod sync: named marks as ms offsets from its start (no cost when disabled). */
export class Timeline {
  // performance.now(), not the injected clock: this measures how long real work took.
  private readonly t0 = performance.now();
  private readonly marks: [string, number][] = [];

  constructor(readonly enabled: boolean) {}

  mark(name: string): void {
    if (this.enabled) this.marks.push([name, Math.round(performance.now() - this.t0)]);
  }

  fields(): Record<string, number> {
    return { ...Object.fromEntries(this.marks), totalMs: Math.round(performance.now() - this.t0) };
  }
}
