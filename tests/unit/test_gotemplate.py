"""docker's --format templates: the subset of Go's text/template scripts use."""

from __future__ import annotations

import pytest

from app.cli.gotemplate import Template
from app.cli.gotemplate_funcs import TemplateError, go_json
from app.cli.output import render_each

INSPECT = {
    "Id": "abc", "Name": "/web",
    "State": {"Pid": 42, "Running": True, "ExitCode": 0, "Status": "running"},
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"b": "2", "a": "<1>"}, "Cmd": None},
    "NetworkSettings": {"Networks": {"net2": {"IPAddress": "10.0.0.3"},
                                     "net1": {"IPAddress": "10.0.0.2"}}},
}


@pytest.mark.parametrize(("tmpl", "want"), [
    ("{{.State.Pid}}", "42"),
    ("{{ .State.Running }}", "true"),
    ("{{.Name}} {{.State.Status}}", "/web running"),
    ("{{json .Config.Labels}}", '{"b":"2","a":"\\u003c1\\u003e"}'),
    ("{{json .Config.Cmd}}", "null"),
    ("{{.Config.Cmd}}", "<no value>"),
    ("{{.Config.Labels}}", "map[a:<1> b:2]"),
    ("{{.Config.Env}}", "[A=1 B=2]"),
    ("{{index .Config.Labels \"b\"}}", "2"),
    ("{{index .Config.Labels \"zz\"}}", ""),
    ("{{.Config.Labels.a}}|{{.Config.Labels.zz}}", "<1>|"),
    ("{{index .Config.Env 1}}", "B=2"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "10.0.0.2 10.0.0.3 "),
    ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}",
     "net1=10.0.0.2;net2=10.0.0.3;"),
    ("{{range .Config.Env}}[{{.}}]{{end}}", "[A=1][B=2]"),
    ("{{range .Config.Cmd}}x{{else}}none{{end}}", "none"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{else}}?{{end}}",
     "zero"),
    ("{{with .State}}{{.Pid}}{{end}}", "42"),
    ("{{.Name | upper}}", "/WEB"),
    ("{{join .Config.Env \",\"}}", "A=1,B=2"),
    ("{{printf \"%-5s|%d\" .Name .State.Pid}}", "/web |42"),
    ("{{len .Config.Env}}", "2"),
    ("a\n  {{- .State.Pid -}}  \nb", "a42b"),
    ("{{/* a comment */}}x", "x"),
    ("{{$.Id}}{{range .Config.Env}}{{$.Id}}{{end}}", "abcabcabc"),
])
def test_renders_like_go(tmpl: str, want: str) -> None:
    assert Template(tmpl).render(INSPECT) == want


@pytest.mark.parametrize("tmpl", [
    "{{.Nope}}", "{{.State.Nope}}", "{{nosuchfunc .Id}}", "{{if .Id}}x", "{{end}}",
    "{{.Id", "{{$x}}", "{{range .State.Pid}}{{end}}", "{{(.Id)}}",
])
def test_bad_templates_are_one_clear_error(tmpl: str) -> None:
    with pytest.raises(TemplateError) as err:
        Template(tmpl).render(INSPECT)
    assert str(err.value).startswith("template:") and "\n" not in str(err.value)


def test_methods_with_arguments_as_docker_ps_label() -> None:
    row = {"Label": lambda key: {"app": "web"}.get(key, "")}
    assert Template('{{.Label "app"}}').render(row) == "web"


def test_table_has_a_header_and_aligned_columns() -> None:
    rows = [{"ID": "1", "Names": "a-long-name"}, {"ID": "22", "Names": "b"}]
    out = render_each("table {{.ID}}\\t{{.Names}}", rows, {"ID": "CONTAINER ID",
                                                            "Names": "NAMES"})
    assert out == ("CONTAINER ID   NAMES\n"
                   "1              a-long-name\n"
                   "22             b\n")
    assert render_each("{{.Names}}", rows) == "a-long-name\nb\n"
    assert render_each("table {{.ID}}", [], {"ID": "CONTAINER ID"}) == "CONTAINER ID\n"


def test_json_is_go_compact() -> None:
    assert go_json({"a": [1, 2.5, None, True], "é": "x"}) == '{"a":[1,2.5,null,true],"é":"x"}'
