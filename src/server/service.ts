// The language service without the connection: open documents, incremental parses, findings, hover, completion
// and quick fixes. server.ts wires it to LSP; tests and the bench drive it directly.
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { hoverMarkdown, wordAt } from './docs';
import { ParsedDocument } from './document';
import { createCParser } from './parser';
import { analyze } from './rules/index';
import type { Finding } from './rules/types';
import { isCustomProgramDocument } from '../shared/customProgramScope';
import { loadUapiDocs, type UapiDocs } from './uapi';

export interface ServiceDocument {
  parsed: ParsedDocument;
  inScope: boolean;
  /** The file name without extension (`bytecount` for bytecount.h), when the document is a file. */
  fileBase?: string;
  findings?: Finding[];
}

const baseName = (filePath: string | undefined): string | undefined => (filePath ? path.basename(filePath).replace(/\.[^.]*$/, '') || undefined : undefined);

export class LanguageService {
  private readonly docs = new Map<string, ServiceDocument>();
  readonly uapi: UapiDocs | undefined;
  readonly uapiError: string | undefined;

  private constructor(
    private readonly parser: Parser,
    uapiHeader: string | undefined,
  ) {
    const { docs, error } = loadUapiDocs(uapiHeader);
    this.uapi = docs;
    this.uapiError = error;
  }

  static async create(uapiHeader?: string): Promise<LanguageService> {
    return new LanguageService(await createCParser(), uapiHeader);
  }

  open(uri: string, filePath: string | undefined, text: string): ServiceDocument {
    this.close(uri);
    const doc: ServiceDocument = { parsed: new ParsedDocument(this.parser, text), inScope: isCustomProgramDocument(filePath, text), fileBase: baseName(filePath) };
    this.docs.set(uri, doc);
    return doc;
  }

  /** The document's new full text (already edited incrementally by the client's changes): reparses incrementally. */
  change(uri: string, filePath: string | undefined, text: string): ServiceDocument {
    const doc = this.docs.get(uri);
    if (!doc) return this.open(uri, filePath, text);
    doc.parsed.update(text);
    doc.findings = undefined;
    if (!doc.inScope) doc.inScope = isCustomProgramDocument(filePath, text);
    return doc;
  }

  close(uri: string): void {
    this.docs.get(uri)?.parsed.dispose();
    this.docs.delete(uri);
  }

  get(uri: string): ServiceDocument | undefined {
    return this.docs.get(uri);
  }

  /** The rules' findings (cached until the next change); empty outside custom-program folders. */
  findings(uri: string): Finding[] {
    const doc = this.docs.get(uri);
    if (!doc || !doc.inScope) return [];
    doc.findings ??= analyze(doc.parsed.tree, doc.parsed.text, doc.fileBase);
    return doc.findings;
  }

  hover(uri: string, line: number, character: number): string | undefined {
    const doc = this.docs.get(uri);
    if (!doc || !doc.inScope || !this.uapi) return undefined;
    const word = wordAt(doc.parsed.text, line, character);
    return word ? hoverMarkdown(this.uapi, word) : undefined;
  }

  dispose(): void {
    for (const uri of [...this.docs.keys()]) this.close(uri);
    this.parser.delete();
  }
}
