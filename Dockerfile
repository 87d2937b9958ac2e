# binary-logger: the original's three targets (issue 2, item 10).
#
#   docker build --target test -t binary-logger:test .   # runs the tests while building
#   docker run --rm binary-logger:test                    # runs them again
#   docker build --target run -t binary-logger .          # production image
#   docker run --rm binary-logger                         # runs the demo
#
# The image has no python3 and no ../shared: the interop tests skip, and the
# tests read the original's files from test/fixtures/.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- base: dev dependencies and sources, built ------------------------------
FROM ${NODE_IMAGE} AS base

ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# nats-server for the shipping tests (issue 12): they start their own on a
# loopback port. Only the base/test stages get it; the run image does not.
RUN apt-get update && apt-get install -y --no-install-recommends nats-server && rm -rf /var/lib/apt/lists/*

# Build and test as the image's non-root `node` user (uid 1000): as root,
# permission checks never fail, so tests that expect EACCES could not pass.
RUN mkdir -p /app && chown node:node /app
WORKDIR /app
USER node

# Dependencies first, so that a change to the sources reuses this layer.
COPY --chown=node:node package.json package-lock.json ./
RUN npm ci

# Everything else the .dockerignore lets through: src/, test/ (with its
# fixtures), docs/, bench/, tsconfig*.json.
COPY --chown=node:node . .
RUN npm run build && npm run build:test

# ---- test: runs the test suite during the build ------------------------------
FROM base AS test

# A failing test fails the build. `npm test` is the README's command: its
# pretest builds dist/ and build/ again, then node --test runs build/test/.
RUN npm test
CMD ["npm", "test"]

# ---- run: production image, runtime files only -------------------------------
FROM ${NODE_IMAGE} AS run

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# No dev dependencies. The package has no runtime dependencies, so this
# installs nothing today; it keeps the image right if one is ever added.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# The built library and CLI, owned by root: the node user can run them but
# not change them.
COPY --from=base /app/dist ./dist

# The demo writes ./logs/events.bin and its backups: the one directory the
# node user may write. Mount a volume here to keep the files. On a volume that
# already holds the demo's log, the demo refuses (it never deletes a log it did
# not write): run `node dist/cli/index.js demo --force` to start it over.
RUN mkdir logs && chown node:node logs
USER node

CMD ["node", "dist/cli/index.js", "demo"]
