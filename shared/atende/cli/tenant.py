"""`atende tenant set FILE` / `atende tenant show ID`: a tenant's configuration in Firestore.

The file is the configuration as JSON with its `tenant_id`. It is validated before anything
is written: a bad file is refused with every problem listed, and the stored one stays.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atende.adapters.firestore.tenant_store import FirestoreTenantStore, describe
from atende.cli.stack_env import load_stack_env
from atende.tenants.tenant_config import TenantConfig


class TenantFileError(ValueError):
    """The file cannot become a tenant configuration; the message says why."""


def read_tenant_file(path: Path) -> tuple[str, TenantConfig]:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TenantFileError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise TenantFileError(f"{path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise TenantFileError(f"{path} must hold a JSON object")
    tenant_id = document.pop("tenant_id", None)
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise TenantFileError(f'{path} needs a "tenant_id" string')
    try:
        return tenant_id.strip(), TenantConfig.model_validate(document)
    except ValidationError as error:
        raise TenantFileError(f"{path} is not a valid configuration: {describe(error)}") from None


def _store() -> FirestoreTenantStore:
    from atende.bootstrap import container

    return FirestoreTenantStore(container().firestore, ttl_seconds=0)


def run_tenant(args: argparse.Namespace) -> int:
    load_stack_env()
    if args.action == "set":
        try:
            tenant_id, config = read_tenant_file(Path(args.file))
        except TenantFileError as error:
            print(error)
            return 2
        _store().save(tenant_id, config)
        print(f"saved the configuration of tenant {tenant_id}")
        return 0
    document = _store().load(args.tenant_id)
    if document is None:
        print(f"tenant {args.tenant_id} has no stored configuration: the defaults apply")
        print(json.dumps(TenantConfig().model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    try:
        config = TenantConfig.model_validate(document)
    except ValidationError as error:
        print(f"the stored configuration of tenant {args.tenant_id} is INVALID, so the")
        print(f"default flow runs until it is fixed: {describe(error)}")
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        return 1
    print(json.dumps(config.model_dump(mode="json"), indent=2, ensure_ascii=False))
    return 0


def seed_tenant(path: Path) -> str | None:
    """Store the file's configuration unless its tenant already has one (for `make dev`)."""
    tenant_id, config = read_tenant_file(path)
    store = _store()
    if store.load(tenant_id) is not None:
        return None
    store.save(tenant_id, config)
    return tenant_id
