// validateRecipePath(): a recipe's base path must be a valid znode path other than "/".
import { InvalidArgumentError, validatePath } from "../client/index.js";

export function validateRecipePath(path: string): void {
  validatePath(path);
  if (path === "/") throw new InvalidArgumentError("a recipe needs its own path, not /");
}
