// A window definition: epoch-aligned, half-open [start, start + size), one every `slide`
// (tumbling when slide = size). Flink's TumblingEventTimeWindows / SlidingEventTimeWindows with
// offset 0: a sample at t belongs to every window whose start is a multiple of slide in
// (t − size, t], so ⌈size/slide⌉ windows when size is a multiple of slide.

export interface WindowSpec {
  readonly sizeUs: number;
  readonly slideUs: number;
  /** "100ms" (tumbling) or "1s/500ms" (size/slide): the `window.name` field of feature records. */
  readonly name: string;
}

const label = (us: number): string => (us % 1_000_000 === 0 ? `${us / 1_000_000}s` : `${us / 1000}ms`);

export function windowSpec(sizeMs: number, slideMs: number = sizeMs): WindowSpec {
  const sizeUs = Math.round(sizeMs * 1000);
  const slideUs = Math.round(slideMs * 1000);
  if (!(sizeUs > 0 && slideUs > 0 && slideUs <= sizeUs)) throw new RangeError(`window ${sizeMs}/${slideMs} ms: need 0 < slide ≤ size`);
  return { sizeUs, slideUs, name: slideUs === sizeUs ? label(sizeUs) : `${label(sizeUs)}/${label(slideUs)}` };
}

/** The start of the last window containing t (floor to a multiple of slide, negative t too). */
export const lastStart = (tUs: number, spec: WindowSpec): number => Math.floor(tUs / spec.slideUs) * spec.slideUs;
