/** The hash of the sources the build is made from. */
export function sourceHash(): string;
/** True when dist/ was built from these sources. */
export function buildIsCurrent(hash?: string): boolean;
/** Builds dist/; resolves with the milliseconds it took. */
export function build(): Promise<number>;
/** The hash of what the console's build reads (console/ sources and the SDK's). */
export function consoleSourceHash(): string;
/** True when console/dist was built from these sources. */
export function consoleIsCurrent(hash?: string): boolean;
/** The console's initial JavaScript budget, gzip bytes. */
export const CONSOLE_INITIAL_JS_BUDGET: number;
export interface InitialJs {
  files: string[];
  raw: number;
  gzip: number;
}
/** The initial JavaScript of a built console: the entry chunk and its static imports. */
export function consoleInitialJs(outDir?: string): InitialJs;
/** Builds console/dist with Vite. */
export function buildConsole(): Promise<{ ms: number; initial: InitialJs }>;
export function describeInitialJs(initial: InitialJs): string;
