/** A problem with the user's input or setup: the command prints it and exits with code 2. */
export class GenerateError extends Error {
  override readonly name = "GenerateError";
}
