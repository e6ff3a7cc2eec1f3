/**
 * Where a node's explicitly set attributes (chmod/chown/utimes) live: in the node for objects, and for template files
 * (which have no object at rest) in their directory's per-row array, so they survive forget.
 */
import { S_IFREG } from './mode.js';
import { type KernfsNode, NodeAttrs, type SlottedNode, TemplateFile } from './node.js';

/** The node's explicit attributes, or null while everything follows the defaults. */
export function explicitAttrs(node: KernfsNode): NodeAttrs | null {
  if (node instanceof TemplateFile) return node.parent.tplAttrs?.[node.index] ?? null;
  return (node as SlottedNode).attrs;
}

/** The node's explicit attributes, allocated on the first change. */
export function ensureAttrs(node: KernfsNode): NodeAttrs {
  if (node instanceof TemplateFile) {
    const dir = node.parent;
    dir.tplAttrs ??= new Array<NodeAttrs | undefined>(dir.table!.length);
    const rows = dir.tplAttrs;
    let a = rows[node.index];
    if (!a) rows[node.index] = a = new NodeAttrs();
    return a;
  }
  const slotted = node as SlottedNode;
  slotted.attrs ??= new NodeAttrs();
  return slotted.attrs;
}

/** Effective mode (type | permission bits): a template file's chmod overrides what its row's callback says. */
export function modeOf(node: KernfsNode): number {
  if (node instanceof TemplateFile) {
    const o = node.parent.tplAttrs?.[node.index];
    if (o && o.mode >= 0) return S_IFREG | o.mode;
  }
  return node.mode;
}
