"""What the docs site leaves undescribed: every source, model and seed, and every column the warehouse
really has (dbt's catalog), must carry a description."""

DOCUMENTED_TYPES = ("model", "seed", "source")


def undocumented(manifest: dict, catalog: dict) -> list[str]:
    missing = []
    for section in ("nodes", "sources"):
        for unique_id, node in manifest[section].items():
            if node["resource_type"] not in DOCUMENTED_TYPES:
                continue
            if not node.get("description", "").strip():
                missing.append(unique_id)
            described = {name.lower() for name, column in node.get("columns", {}).items()
                         if column.get("description", "").strip()}
            built = catalog[section].get(unique_id, {}).get("columns", {})
            missing += [f"{unique_id}.{name}" for name in built if name.lower() not in described]
    return sorted(missing)


def counts(manifest: dict) -> dict[str, int]:
    found = {kind: 0 for kind in (*DOCUMENTED_TYPES, "exposure")}
    for section in ("nodes", "sources", "exposures"):
        for node in manifest[section].values():
            if node["resource_type"] in found:
                found[node["resource_type"]] += 1
    return found
