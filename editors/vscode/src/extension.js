// The VS Code client: starts `shapecheck lsp` (setting `shapecheck.command`) for *.shape files
// and passes the `shapecheck.*` settings as initialization options and on every change.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const c = vscode.workspace.getConfiguration("shapecheck");
  return { inlayHints: c.get("inlayHints"), bind: c.get("bind"), debounce: c.get("debounce") };
}

async function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("shapecheck").get("command");
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("shapecheck", "shapecheck", server, {
    documentSelector: [{ scheme: "file", language: "shape" }, { scheme: "untitled", language: "shape" }],
    initializationOptions: { shapecheck: settings() },
    synchronize: {
      configurationSection: "shapecheck",
      fileEvents: [
        vscode.workspace.createFileSystemWatcher("**/*.shape"),
        vscode.workspace.createFileSystemWatcher("**/pyproject.toml"),
      ],
    },
  });
  await client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
