#!/usr/bin/env python3
"""The layering test: the build's library graph and every project #include
against the layer table in docs/architecture.md ("The layers the build
enforces").

  layering_test.py --source-dir DIR --graph BUILD/layer_graph.txt
                   [--extra-include FILE:HEADER] [--extra-link LAYER:LINKED]

It fails when
  - a layer library of the build is not in the table, or one in the table is
    not in the build;
  - a layer links a library its row does not name (or links publicly one its
    row names as private);
  - a file includes a header of a layer its own layer may not use: its own,
    the ones its row names, and what those export publicly.
The --extra options add an include or a link that is not there, to show the
test refusing it (the ctest layering_refuses_*).
"""
import argparse
import os
import re
import sys

SOURCE_ROOTS = ("common", "client", "server")
SECTION = "## The layers the build enforces"


def read_table(doc_path):
    with open(doc_path, encoding="utf-8") as doc:
        text = doc.read()
    if SECTION not in text:
        sys.exit(f"{doc_path}: no section '{SECTION}'")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    layers = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`handover_"):
            continue
        name = cells[0].strip("`")
        sources = re.findall(r"`([^`]+)`", cells[1])
        public_part, _, private_part = cells[2].partition("private:")
        layers[name] = {
            "sources": sources,
            "public": set(re.findall(r"`(handover_\w+)`", public_part)),
            "private": set(re.findall(r"`(handover_\w+)`", private_part)),
        }
    if not layers:
        sys.exit(f"{doc_path}: the section '{SECTION}' has no table of layers")
    return layers


def read_graph(graph_path, extra_links):
    built, links = set(), []
    with open(graph_path, encoding="utf-8") as graph:
        for line in graph:
            layer, kind, linked = line.split()
            if kind == "LAYER":
                built.add(layer)
            else:
                links.append((layer, kind, linked))
    for extra in extra_links:
        layer, linked = extra.split(":")
        links.append((layer, "PUBLIC", linked))
    return built, links


def owner(path, layers):
    """The layer whose longest source prefix names `path`."""
    best, best_length = None, -1
    for name, layer in layers.items():
        for source in layer["sources"]:
            if (path == source or path.startswith(source)) and len(source) > best_length:
                best, best_length = name, len(source)
    return best


def usable(layers):
    """Per layer: itself, what it links, and what those export publicly."""
    result = {}
    for name, layer in layers.items():
        seen = {name}
        stack = list(layer["public"] | layer["private"])
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(layers.get(current, {}).get("public", ()))
        result[name] = seen
    return result


def project_includes(source_dir, extra_includes):
    include = re.compile(r'^\s*#\s*include\s+"((?:common|client|server)/[^"]+)"')
    for root_name in SOURCE_ROOTS:
        for directory, _, files in os.walk(os.path.join(source_dir, root_name)):
            for file_name in sorted(files):
                if not file_name.endswith((".cc", ".h")):
                    continue
                path = os.path.relpath(os.path.join(directory, file_name), source_dir)
                with open(os.path.join(source_dir, path), encoding="utf-8") as source:
                    for number, line in enumerate(source, 1):
                        match = include.match(line)
                        if match:
                            yield path, number, match.group(1)
    for extra in extra_includes:
        path, header = extra.split(":")
        yield path, 0, header


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--graph", required=True)
    parser.add_argument("--extra-include", action="append", default=[])
    parser.add_argument("--extra-link", action="append", default=[])
    args = parser.parse_args()

    doc = os.path.join(args.source_dir, "docs", "architecture.md")
    layers = read_table(doc)
    built, links = read_graph(args.graph, args.extra_link)
    problems = []
    for name in sorted(built - layers.keys()):
        problems.append(f"{name} is a layer of the build but has no row in {doc}")
    for name in sorted(layers.keys() - built):
        problems.append(f"{name} has a row in {doc} but the build has no such layer")
    for layer, kind, linked in links:
        row = layers.get(layer)
        if row is None or linked not in layers:
            continue
        if linked not in row["public"] | row["private"]:
            problems.append(f"{layer} links {linked}: its row does not name it (a link upward or "
                            "sideways)")
        elif kind == "PUBLIC" and linked not in row["public"]:
            problems.append(f"{layer} links {linked} publicly; its row allows only a private link")
    allowed = usable(layers)
    checked = 0
    for path, number, header in project_includes(args.source_dir, args.extra_include):
        checked += 1
        source_layer, header_layer = owner(path, layers), owner(header, layers)
        if source_layer is None or header_layer is None:
            problems.append(f"{path}:{number}: {path if source_layer is None else header} "
                            "belongs to no layer of the table")
        elif header_layer not in allowed[source_layer]:
            problems.append(f"{path}:{number} includes {header}: {source_layer} may not use "
                            f"{header_layer}")
    for problem in problems:
        print(f"layering: {problem}", file=sys.stderr)
    if problems:
        print(f"layering: {len(problems)} problem(s); the layers are in {doc}", file=sys.stderr)
        return 1
    print(f"layering: {len(built)} layers, {len(links)} links and {checked} includes as "
          f"{doc} says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
