# The lab services and the lab UI as one image (each container runs one entry point). Built from this repository.
FROM node:20.19-bookworm-slim
WORKDIR /lab
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY ui ./ui
COPY experiments ./experiments
COPY db ./db
RUN npx tsc -p tsconfig.json
