/**
 * What a stage entry function accepts: any subset of its parameters, enum-typed strings widened to
 * string (a notebook's `params` object is plainly typed, so it needs no casts); `resolveParams` checks every
 * value at run time and refuses an unknown choice with a UserError.
 */
export type StageOverrides<P> = { [K in keyof P]?: P[K] extends string ? string : P[K] };
