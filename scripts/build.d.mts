/** The hash of the sources the build is made from. */
export function sourceHash(): string;
/** True when dist/ was built from these sources. */
export function buildIsCurrent(hash?: string): boolean;
/** Builds dist/; resolves with the milliseconds it took. */
export function build(): Promise<number>;
