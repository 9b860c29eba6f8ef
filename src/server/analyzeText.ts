// Parse-and-check in one call, for tests, the bench and the CLI-style uses.
import { ParsedDocument } from './document';
import { createCParser } from './parser';
import { analyze } from './rules/index';
import type { Finding } from './rules/types';

export async function analyzeText(text: string, fileBase?: string): Promise<Finding[]> {
  const parser = await createCParser();
  const doc = new ParsedDocument(parser, text);
  try {
    return analyze(doc.tree, doc.text, fileBase);
  } finally {
    doc.dispose();
    parser.delete();
  }
}
