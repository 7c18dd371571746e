#!/usr/bin/env bash
# Installs code-server (VS Code's server + workbench, from npm) into a cache folder, for the
# integration and end-to-end tests: the machines that run them cannot download VS Code itself.
#
# usage: setup.sh DEST        (DEST gets node_modules/.bin/code-server)
# needs: node 20 + npm, python3, make, g++, Node headers in /usr/include/node, and Debian's
#        ripgrep and libkrb5-dev.
#
# Why not a plain `npm install code-server`: its postinstall runs a nested `npm install` that
# npm 11 refuses (dependency install scripts are blocked), and @vscode/ripgrep downloads its
# binary from GitHub. So the package is fetched without scripts, the native modules VS Code's
# server loads are rebuilt explicitly, and Debian's rg stands in for the download.
set -euo pipefail
DEST=${1:?usage: setup.sh DEST}
VERSION=${CODE_SERVER_VERSION:-4.100.3}   # = VS Code 1.100.3, the newest code-server on Node 20
command -v rg >/dev/null || { echo "setup.sh: ripgrep (Debian package 'ripgrep') is required" >&2; exit 2; }
mkdir -p "$DEST"
cd "$DEST"
# A private npm configuration: build against the local Node headers (no header download),
# and no audit/fund/update chatter.
cat > npmrc <<RC
nodedir=${NODEDIR:-/usr}
audit=false
fund=false
update-notifier=false
RC
export NPM_CONFIG_USERCONFIG="$PWD/npmrc"
[ -f package.json ] || printf '{"name":"activation-lens-vscode-host","private":true}\n' > package.json

npm install --ignore-scripts --no-save "code-server@$VERSION"
npm rebuild argon2
VSCODE="$PWD/node_modules/code-server/lib/vscode"
cd "$VSCODE"
npm install --omit=dev --ignore-scripts
npm rebuild --foreground-scripts kerberos native-watchdog node-pty @parcel/watcher @vscode/deviceid @vscode/spdlog
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev)
"$DEST/node_modules/.bin/code-server" --version
touch "$DEST/.ready-$VERSION"
