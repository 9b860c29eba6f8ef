// The first five minutes: the walkthrough (Build → Verify → Create the sandbox → Attach → Send traffic → See the
// count), whose every step runs a real, registered command; the Endpoints view's welcome content; a command run from
// the walkthrough (no text editor active) acting on the header last used; and the target picker's item that opens
// the ciliumCustom.targets setting.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, declaredCommands, EXTENSION_ID, getExtension, manifest, openFile, requestScreenshot, waitForActivation, waitForEvent, workspacePath } from '../util';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents?: string[];
}
interface Walkthrough {
  id: string;
  title: string;
  steps: Step[];
}
interface Contributions {
  walkthroughs?: Walkthrough[];
  viewsWelcome?: { view: string; contents: string; when?: string }[];
}
interface PickItem extends vscode.QuickPickItem {
  target?: string;
  openSetting?: boolean;
}
interface Api {
  targets: { onDidShowPicker: vscode.Event<vscode.QuickPick<PickItem>> };
}

const WALKTHROUGH = 'ciliumCustom.firstProgram';
/** The command each step's first button runs, in order. */
const STEP_COMMANDS = [
  'ciliumCustom.build',
  'ciliumCustom.verify',
  'ciliumCustom.createSandbox',
  'ciliumCustom.attach',
  'ciliumCustom.sandboxTraffic',
  'ciliumCustom.refreshMaps',
  'ciliumCustom.generateCompileCommands',
];

function contributions(): Contributions {
  return (manifest() as unknown as { contributes: Contributions }).contributes;
}

/** The commands of a markdown text's `command:` links, with their decoded arguments. */
function commandLinks(markdown: string): { id: string; args: unknown[] }[] {
  return [...markdown.matchAll(/\]\(command:([\w.-]+)(?:\?([^)\s]+))?\)/g)].map((m) => ({
    id: m[1],
    args: m[2] ? (JSON.parse(decodeURIComponent(m[2])) as unknown[]) : [],
  }));
}

describe('walkthrough, welcome view and target picker', function () {
  this.timeout(90_000);
  let registered: Set<string>;

  before(async () => {
    await waitForActivation();
    registered = new Set(await vscode.commands.getCommands(true));
  });

  after(closeAllEditors);

  it('contributes the walkthrough: each step runs a registered command of the extension and has its media', () => {
    const walkthrough = contributions().walkthroughs?.find((w) => w.id === WALKTHROUGH);
    assert.ok(walkthrough, `no walkthrough ${WALKTHROUGH}`);
    assert.deepEqual(
      walkthrough.steps.map((s) => commandLinks(s.description)[0]?.id),
      STEP_COMMANDS,
      'Build, Verify, Create the sandbox, Attach, Send traffic, See the count (then clangd), each a button',
    );
    const declared = new Set(declaredCommands());
    const extensionPath = getExtension().extensionPath;
    for (const step of walkthrough.steps) {
      for (const { id } of commandLinks(step.description)) {
        assert.ok(registered.has(id), `step ${step.id}: command ${id} is not registered`);
        // The extension's own commands are declared (a view's focus command comes with the view).
        if (id.startsWith('ciliumCustom.') && !id.endsWith('.focus')) assert.ok(declared.has(id), `step ${step.id}: ${id} is not in contributes.commands`);
      }
      const [button] = commandLinks(step.description);
      assert.ok(step.completionEvents?.includes(`onCommand:${button.id}`), `step ${step.id} completes when its command runs`);
      assert.ok(step.media.markdown, `step ${step.id} has markdown media`);
      const media = path.join(extensionPath, step.media.markdown);
      assert.ok(fs.existsSync(media), `step ${step.id}: ${media} is missing`);
      assert.match(fs.readFileSync(media, 'utf8'), /^# /, `${step.media.markdown} starts with a title`);
    }
  });

  it("gives the Endpoints view welcome content that offers the sandbox, another target and the walkthrough", () => {
    const welcome = contributions().viewsWelcome?.filter((w) => w.view === 'ciliumCustom.endpoints') ?? [];
    assert.ok(welcome.length > 0, 'no viewsWelcome for ciliumCustom.endpoints');
    const links = welcome.flatMap((w) => commandLinks(w.contents));
    for (const id of ['ciliumCustom.createSandbox', 'ciliumCustom.selectTarget', 'workbench.action.openWalkthrough']) {
      assert.ok(links.some((l) => l.id === id), `the welcome content links ${id}`);
      assert.ok(registered.has(id), `${id} is registered`);
    }
    const open = links.find((l) => l.id === 'workbench.action.openWalkthrough');
    assert.equal(open?.args[0], `${EXTENSION_ID}#${WALKTHROUGH}`);
  });

  it('opens the walkthrough, and its Build button (no text editor active) builds the header last used', async () => {
    const header = workspacePath('programs', 'bytecount.h');
    await openFile(header);
    await vscode.commands.executeCommand('ciliumCustom.endpoints.focus');
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${WALKTHROUGH}`, false);
    await waitForEvent(vscode.window.onDidChangeActiveTextEditor, {
      check: () => (vscode.window.activeTextEditor === undefined ? true : undefined),
      predicate: (editor) => editor === undefined,
      map: () => true,
      description: 'the walkthrough to take the place of the text editor',
    });
    // The picture: the walkthrough and the Endpoints view's welcome, without the panel and the notifications.
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('notifications.clearAll');
    // The step's media is a webview: it renders in the browser with no event the extension host could wait on, so
    // the picture (and only the picture: nothing is asserted about it) gives it a few seconds.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await requestScreenshot('walkthrough');
    const result = (await vscode.commands.executeCommand('ciliumCustom.build')) as { ok: boolean; headerPath: string } | undefined;
    assert.ok(result, 'the command found a header without an active editor');
    assert.equal(result.headerPath, header);
    assert.equal(result.ok, true);
    await closeAllEditors();
  });

  it("has an item in the target picker that opens the ciliumCustom.targets setting", async () => {
    const api = getExtension().exports as Api;
    const shown = waitForEvent(api.targets.onDidShowPicker, { description: 'the target picker' });
    const selecting = vscode.commands.executeCommand('ciliumCustom.selectTarget');
    const picker = await shown;
    assert.ok(picker.items.some((i) => i.target === 'local'), 'local is offered');
    const item = picker.items.find((i) => i.openSetting);
    assert.ok(item, `no settings item in ${JSON.stringify(picker.items.map((i) => i.label))}`);
    assert.match(item.label, /SSH targets/);
    assert.match(item.description ?? '', /ciliumCustom\.targets/);
    assert.ok(picker.buttons.length > 0, 'and a gear button in the title');

    const settingsOpened = waitForEvent(vscode.window.tabGroups.onDidChangeTabs, {
      predicate: (event) => event.opened.concat(event.changed).some((tab) => /settings/i.test(tab.label)),
      check: () => (vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => /settings/i.test(t.label))) ? true : undefined),
      map: () => true,
      description: 'the settings editor to open',
    });
    // The workbench reports the focus it moved to the item; only then does Enter pick it.
    const focused = waitForEvent(picker.onDidChangeActive, { predicate: (active) => active[0] === item, description: 'the settings item to get the focus' });
    picker.activeItems = [item];
    await focused;
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await selecting, undefined, 'no target was chosen');
    await settingsOpened;
    await closeAllEditors();
  });
});
