// The LSP side: document sync (incremental), debounced diagnostics, hover, completion, quick fixes.
import {
  CodeActionKind,
  CompletionItemKind,
  type Connection,
  type Diagnostic,
  DiagnosticSeverity,
  MarkupKind,
  type CodeAction,
  type CompletionItem,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTIC_SOURCE, type ServerInitializationOptions } from '../shared/protocol';
import type { Finding, QuickFix } from './rules/types';
import { LanguageService } from './service';
import { WRAPPERS } from './uapi';

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

const toRange = (r: Finding['range']) => ({ start: { line: r.start.row, character: r.start.column }, end: { line: r.end.row, character: r.end.column } });

export function toDiagnostic(f: Finding): Diagnostic {
  return { range: toRange(f.range), severity: SEVERITY[f.severity], source: DIAGNOSTIC_SOURCE, code: f.code, message: f.message, data: f.fix ? { fix: f.fix } : undefined };
}

function filePathOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  let service: LanguageService | undefined;
  let debounceMs = 150;
  const timers = new Map<string, NodeJS.Timeout>();

  const publish = (uri: string): void => {
    timers.delete(uri);
    if (!service) return;
    const started = performance.now();
    const diagnostics = service.findings(uri).map(toDiagnostic);
    void connection.sendDiagnostics({ uri, diagnostics });
    const ms = performance.now() - started;
    if (ms > 50) connection.console.log(`diagnostics for ${uri} took ${ms.toFixed(1)} ms`);
  };
  const schedule = (uri: string): void => {
    clearTimeout(timers.get(uri));
    timers.set(uri, setTimeout(() => publish(uri), debounceMs));
  };

  connection.onInitialize(async (params) => {
    const options = (params.initializationOptions ?? {}) as ServerInitializationOptions;
    if (typeof options.debounceMs === 'number') debounceMs = options.debounceMs;
    service = await LanguageService.create(options.uapiHeader);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        completionProvider: { triggerCharacters: [] },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'cilium-custom-language-server' },
    };
  });
  connection.onInitialized(() => {
    if (service?.uapiError) connection.console.log(`no BPF helper documentation (hover and completion off): ${service.uapiError}`);
  });

  documents.onDidOpen(({ document }) => {
    service?.open(document.uri, filePathOf(document.uri), document.getText());
    schedule(document.uri);
  });
  documents.onDidChangeContent(({ document }) => {
    if (!service) return;
    if (!service.get(document.uri)) service.open(document.uri, filePathOf(document.uri), document.getText());
    else service.change(document.uri, filePathOf(document.uri), document.getText());
    schedule(document.uri);
  });
  documents.onDidClose(({ document }) => {
    clearTimeout(timers.get(document.uri));
    timers.delete(document.uri);
    service?.close(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onHover(({ textDocument, position }) => {
    const value = service?.hover(textDocument.uri, position.line, position.character);
    return value ? { contents: { kind: MarkupKind.Markdown, value } } : null;
  });

  connection.onCompletion(({ textDocument }) => {
    const uapi = service?.uapi;
    if (!uapi || !service?.get(textDocument.uri)?.inScope) return [];
    const items: CompletionItem[] = [];
    for (const h of uapi.helpers.values()) {
      items.push({ label: h.name, kind: CompletionItemKind.Function, detail: h.signature, documentation: { kind: MarkupKind.Markdown, value: `${h.description}\n\n**Return**\n\n${h.returns}` } });
    }
    for (const [wrapper, helper] of Object.entries(WRAPPERS)) {
      const h = uapi.helpers.get(helper);
      if (h) items.push({ label: wrapper, kind: CompletionItemKind.Function, detail: `Cilium wrapper: ${h.signature}`, documentation: { kind: MarkupKind.Markdown, value: h.description } });
    }
    for (const m of uapi.mapTypes.values()) items.push({ label: m.name, kind: CompletionItemKind.EnumMember, detail: `enum bpf_map_type = ${m.value}` });
    return items;
  });

  connection.onCodeAction(({ textDocument, context }) => {
    const actions: CodeAction[] = [];
    const findings = service?.findings(textDocument.uri) ?? [];
    for (const d of context.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      let fix = (d.data as { fix?: QuickFix } | undefined)?.fix;
      if (!fix) {
        const same = findings.find((f) => f.code === d.code && f.range.start.row === d.range.start.line && f.range.start.column === d.range.start.character);
        fix = same?.fix;
      }
      if (!fix) continue;
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [textDocument.uri]: fix.edits.map((e) => ({ range: toRange(e.range), newText: e.newText })) } },
      });
    }
    return actions;
  });

  connection.onShutdown(() => {
    for (const t of timers.values()) clearTimeout(t);
    service?.dispose();
    service = undefined;
  });

  documents.listen(connection);
  connection.listen();
}
