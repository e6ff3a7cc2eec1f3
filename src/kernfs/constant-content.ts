/**
 * Files with constant content (`ConstantOp`): their bytes are asked for once per node object and kept on it, so the
 * size stat(2) reports and every read agree, and a lookup that needs the size costs the generation only once. A
 * template file's object lives while the kernel holds it, so its bytes go with it and are made again at a later lookup.
 */
import type { AnyFile } from './node.js';

const encoder = new TextEncoder();

/** The file's constant content, or null when its ops have no `constant`. */
export function constantContent(node: AnyFile): Uint8Array | null {
  if (node.constantBytes !== null) return node.constantBytes;
  const constant = node.ops.constant;
  if (!constant) return null;
  const content = constant.call(node.ops, node);
  node.constantBytes = typeof content === 'string' ? encoder.encode(content) : content;
  return node.constantBytes;
}
