// One open document: its text, the masked text tree-sitter sees, and the syntax tree, kept up to date incrementally.
import type { Parser, Tree } from 'web-tree-sitter';
import { maskAttributes } from './mask';
import { offsetToPoint as pointAt } from './syntax';

export class ParsedDocument {
  private masked: string;
  private current: Tree;

  constructor(
    private readonly parser: Parser,
    private source: string,
  ) {
    this.masked = maskAttributes(source);
    this.current = this.parseOrThrow(this.masked);
  }

  get text(): string {
    return this.source;
  }

  get tree(): Tree {
    return this.current;
  }

  /**
   * New text after an edit: the edited region is the part of the masked text that differs (common prefix and
   * suffix kept), so a change of mask outside the typed range (typing `__always_inline`) is covered too.
   */
  update(newText: string): void {
    const next = maskAttributes(newText);
    const prev = this.masked;
    const max = Math.min(prev.length, next.length);
    let start = 0;
    while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++;
    let suffix = 0;
    while (suffix < max - start && prev.charCodeAt(prev.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)) suffix++;
    this.source = newText;
    if (start === prev.length && start === next.length) return;
    const oldEnd = prev.length - suffix;
    const newEnd = next.length - suffix;
    const startPosition = pointAt(prev, start);
    this.current.edit({
      startIndex: start,
      oldEndIndex: oldEnd,
      newEndIndex: newEnd,
      startPosition,
      oldEndPosition: pointAt(prev, oldEnd),
      newEndPosition: pointAt(next, newEnd),
    });
    const old = this.current;
    this.masked = next;
    this.current = this.parseOrThrow(next, old);
    old.delete();
  }

  dispose(): void {
    this.current.delete();
  }

  private parseOrThrow(text: string, old?: Tree): Tree {
    const tree = this.parser.parse(text, old ?? null);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  }
}
