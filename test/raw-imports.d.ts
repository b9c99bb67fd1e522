/** Vite's `?raw` imports, which the workers test pool resolves: a file's text as a string. */
declare module "*?raw" {
  const text: string;
  export default text;
}
