/** The event the storm threads share (identical definitions in every thread are one tracepoint). */
export const STORM_FIELDS = { a: 'u32', b: 'u32', c: 'u16', s: 'string' } as const;
