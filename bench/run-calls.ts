export { runCalls } from "../test/helpers/backends.js";
