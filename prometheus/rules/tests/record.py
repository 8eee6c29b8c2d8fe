#!/usr/bin/env python3
"""Records the series a detection alert reads during real experiment runs into a promtool unit test.

    python3 prometheus/rules/tests/record.py http://127.0.0.1:19090 OUT.yml ALERT:JOURNAL:fires|quiet[@PROM] ...

For each case it reads the run's window from its journal.json (reports/<run id>/ or test-output/verdicts/<run id>/),
fetches every series the alert reads for that run (selected by its run label, or its topic) at the lab's 1 s
resolution from the given Prometheus, and writes them as input_series: `fires` asserts the alert is firing (labels
and annotations as Prometheus rendered them) one second after the recording shows it fire, `quiet` asserts it never
fires over the whole window, every 5 s. Series are recorded as they were, run ids included, so a test names the run
it came from; `@PROM` reads that case from another Prometheus (e.g. one started on a CI run's data dir). Needs PyYAML and promtool on PATH; run it while the runs' data is still in Prometheus (2 days).
"""
import datetime
import json
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

import yaml

RULES = 'prometheus/rules/lab-alerts.yml'
# What each detection alert reads, per run: `{run}` becomes the run id.
SELECTORS = {
    'LabEventsNotPublished': [
        'lab_command_commits_total{run="{run}"}',
        'lab_command_events_produced_total{run="{run}"}',
        'lab_command_outbox_writes_total{run="{run}"}',
    ],
    'LabDuplicateSideEffects': [
        'lab_consumer_side_effects_total{run="{run}"}',
        'lab_command_commits_total{run="{run}"}',
    ],
    'LabEventsNotApplied': [
        'lab_kafka_partition_hw{topic="lab.exp.{run}"}',
        'lab_consumer_messages_total{run="{run}"}',
        'lab_consumer_lag_messages{run="{run}"}',
    ],
    'LabConsumerDeserializationFailures': [
        'lab_consumer_deserialization_failures_total{run="{run}"}',
        'lab_consumer_messages_total{run="{run}"}',
    ],
    'LabKafkaLastStableOffsetStuck': [
        'lab_kafka_partition_hw{topic="lab.exp.{run}"}',
        'lab_kafka_partition_lso{topic="lab.exp.{run}"}',
    ],
    'LabCacheStampede': ['lab_query_db_loads_concurrent_total{run="{run}"}'],
}
# After the run's window: the engine waits this long for an expected alert (quiescence.alertWaitMs).
TAIL_SEC = 40


def query_range(prom, expr, start, end):
    q = urllib.parse.urlencode({'query': expr, 'start': start, 'end': end, 'step': '1'})
    with urllib.request.urlopen(f'{prom}/api/v1/query_range?{q}', timeout=60) as r:
        return json.load(r)['data']['result']


def duration_sec(text):
    m = re.fullmatch(r'(\d+)(ms|s|m)', text or '0s')
    return int(m.group(1)) * {'ms': 0.001, 's': 1, 'm': 60}[m.group(2)]


def series_line(metric):
    name = metric['__name__']
    labels = ','.join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != '__name__')
    return f'{name}{{{labels}}}'


def firing_instances(rule, prom, run_id, start, end):
    """When the recorded data first makes the rule fire for this run (seconds after start), and the output labels
    of every instance firing one second later."""
    since = {}
    for s in query_range(prom, rule['expr'], start, end):
        labels = s['metric']
        if labels.get('run', run_id) != run_id or run_id not in labels.get('topic', run_id):
            continue
        held_from, last, stretches = None, None, []
        for t, _ in s['values']:
            t = float(t)
            if last is None or t - last > 1.5:
                held_from = t
                stretches.append([t, t])
            stretches[-1][1] = last = t
        fires = [(a + duration_sec(rule.get('for')), b) for a, b in stretches]
        since[json.dumps(labels, sort_keys=True)] = [(a, b) for a, b in fires if a <= b]
    starts = [a for spans in since.values() for a, _ in spans]
    if not starts:
        return None, []
    at = min(starts) + 1
    return at - start, [json.loads(k) for k, spans in since.items() if any(a <= at <= b for a, b in spans)]


def case(prom, rules, spec):
    spec, _, other = spec.partition('@')
    prom = other or prom
    alert, journal, want = spec.rsplit(':', 2)
    run = json.load(open(journal))
    run_id = run['runId']
    start = int(datetime.datetime.fromisoformat(run['startedAt'].replace('Z', '+00:00')).timestamp())
    end = int(run['window']['endSec']) + TAIL_SEC
    rule = rules[alert]
    inputs = []
    for selector in SELECTORS[alert]:
        for s in query_range(prom, selector.replace('{run}', run_id), start, end):
            at = {int(float(t)) - start: v for t, v in s['values']}
            # A range query fills every step within the lookback, so a gap is a staleness marker (the process
            # stopped or died): written as `stale`, else promtool would carry the last value on for 5 minutes.
            values = ' '.join(
                at[i] if i in at else 'stale' if i - 1 in at else '_' for i in range(end - start + 1))
            inputs.append({'series': series_line(s['metric']), 'values': values})
    if not inputs:
        sys.exit(f'{alert}: no series recorded for {run_id} (is its data still in {prom}?)')
    title = f"{run['id']} {run.get('side', '')} seed {run['seed']} ({run_id}), recorded"
    if want == 'quiet':
        tests = [{'eval_time': f'{t}s', 'alertname': alert, 'exp_alerts': []}
                 for t in range(0, end - start + 1, 5)]
        return {'name': f'{title}: {alert} stays quiet', 'interval': '1s', 'input_series': inputs,
                'alert_rule_test': tests}
    at, instances = firing_instances(rule, prom, run_id, start, end)
    if at is None:
        sys.exit(f'{alert} does not fire on {run_id}: record it as quiet, or fix the rule')
    exp = [{'exp_labels': {**{k: v for k, v in labels.items() if k != '__name__'},
                           'severity': rule['labels']['severity']}} for labels in instances]
    return {'name': f'{title}: {alert} fires', 'interval': '1s', 'input_series': inputs,
            'alert_rule_test': [{'eval_time': f'{int(at)}s', 'alertname': alert, 'exp_alerts': exp}]}


def label_pairs(text):
    """`a="x", b="y"` as promtool prints labels and annotations (Go-quoted values)."""
    return {k: json.loads(f'"{v}"') for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', text)}


def fill_annotations(doc, out):
    """promtool prints what it got: take each firing alert's rendered annotations from there."""
    with tempfile.NamedTemporaryFile('w', suffix='.yml', dir='prometheus/rules/tests', delete=False) as f:
        yaml.safe_dump(doc, f, sort_keys=False, width=10_000)
    got = subprocess.run(['promtool', 'test', 'rules', f.name], capture_output=True, text=True)
    got = got.stdout + got.stderr
    subprocess.run(['rm', f.name])
    for test in doc['tests']:
        for t in test['alert_rule_test']:
            if not t['exp_alerts']:
                continue
            block = got[got.index(f"name: {test['name']},"):]
            block = block[:block.find('\n    name: ', 1) if '\n    name: ' in block[1:] else len(block)]
            got_part = block[block.find('got:['):]
            rendered = {}
            for labels, ann in re.findall(r'Labels:\{([^\n]*)\}\s*Annotations:\{(.*)\}', got_part):
                key = {k: v for k, v in label_pairs(labels).items() if k != 'alertname'}
                rendered[json.dumps(key, sort_keys=True)] = label_pairs(ann)
            for e in t['exp_alerts']:
                key = json.dumps(e['exp_labels'], sort_keys=True)
                if key not in rendered:
                    sys.exit(f"{test['name']}: promtool does not see {key} fire on the recorded series:\n{block}")
                e['exp_annotations'] = rendered[key]
    with open(out, 'w') as f:
        f.write('# Series recorded from real experiment runs (prometheus/rules/tests/record.py): each detection alert\n'
                '# fires on the run of the side it must catch and stays quiet on the run of the side it must not.\n')
        yaml.safe_dump(doc, f, sort_keys=False, width=10_000, allow_unicode=True)


def main():
    prom, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    rules = {r['alert']: r for g in yaml.safe_load(open(RULES))['groups'] for r in g['rules'] if 'alert' in r}
    doc = {'rule_files': ['../lab-alerts.yml'], 'evaluation_interval': '1s',
           'tests': [case(prom, rules, spec) for spec in specs]}
    fill_annotations(doc, out)


if __name__ == '__main__':
    main()
