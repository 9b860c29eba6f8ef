// The Test Explorer's tree: one item per test file, labelled by its header (bytecount.h), with one child per case,
// each placed on its `"name"` line of the test file so that the gutter there gets run buttons. A file that does
// not read as a test file but sits beside its header shows as an item with the reader's error; other *.test.json
// files (other tools') are left alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { caseLocations } from '../../core/progtest/caseLocations';
import { parseTestFile, TEST_FILE_SUFFIX, type TestFile } from '../../core/progtest/testFile';

export const TEST_FILE_GLOB = `**/*${TEST_FILE_SUFFIX}`;

/** What the tree knows of each file item: the parsed file (undefined when it does not read). */
export class TestTree {
  private readonly files = new Map<string, TestFile | undefined>();

  constructor(private readonly controller: vscode.TestController) {}

  /** Finds every test file of the workspace. */
  async discoverAll(): Promise<void> {
    const uris = await vscode.workspace.findFiles(TEST_FILE_GLOB, '**/node_modules/**');
    const seen = new Set(uris.map((u) => u.fsPath));
    for (const [file] of this.files) if (!seen.has(file)) this.remove(file);
    for (const uri of uris) this.update(uri.fsPath);
  }

  /** (Re)reads one test file into its item; removes the item when the file is gone or not ours. */
  update(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      this.remove(file);
      return;
    }
    let parsed: TestFile | undefined;
    let error: string | undefined;
    try {
      parsed = parseTestFile(JSON.parse(text) as unknown, file);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const header = parsed?.header ?? file.slice(0, -TEST_FILE_SUFFIX.length) + '.h';
    if (!parsed && !fs.existsSync(header)) {
      this.remove(file);
      return;
    }
    const uri = vscode.Uri.file(file);
    const item = this.controller.items.get(file) ?? this.controller.createTestItem(file, path.basename(header), uri);
    item.description = path.basename(file);
    item.range = new vscode.Range(0, 0, 0, 0);
    item.error = error ? new vscode.MarkdownString().appendText(error) : undefined;
    const locations = parsed ? caseLocations(text, parsed.cases.map((c) => c.name)) : new Map();
    const children = (parsed?.cases ?? []).map((c) => {
      const child = this.controller.createTestItem(caseId(file, c.name), c.name, uri);
      const at = locations.get(c.name);
      if (at) child.range = new vscode.Range(at.line, at.character, at.line, at.character);
      return child;
    });
    item.children.replace(children);
    this.controller.items.add(item);
    this.files.set(file, parsed);
  }

  remove(file: string): void {
    this.controller.items.delete(file);
    this.files.delete(file);
  }

  /** The parsed test file behind a file item's id. */
  testFile(file: string): TestFile | undefined {
    return this.files.get(file);
  }

  /** The file item of a header (its test file beside it, or one naming it). */
  itemForHeader(header: string): vscode.TestItem | undefined {
    for (const [file, parsed] of this.files) if (parsed?.header === header) return this.controller.items.get(file);
    return undefined;
  }
}

export function caseId(file: string, name: string): string {
  return `${file}#${name}`;
}
