"""OpenAPI 3.0 description of the `godiag serve` REST API (served at /openapi.json).

Written by hand rather than generated: the webhook's validation is the strict Alertmanager
parser, not a model class, and the document doubles as schemathesis' test plan.
"""

from __future__ import annotations

from typing import Any

_ERR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
        }
    },
}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_ALERT = {
    "type": "object",
    "required": ["status", "labels", "startsAt", "fingerprint"],
    "properties": {
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "labels": _STR_MAP,
        "annotations": _STR_MAP,
        "startsAt": {"type": "string", "format": "date-time"},
        "endsAt": {"type": "string"},
        "generatorURL": {"type": "string"},
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
    },
}
_IID = {"name": "iid", "in": "path", "required": True, "schema": {"type": "string"}}
_INCIDENT = {"type": "object", "properties": {"id": {"type": "string"}}}
_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"basic": []}]

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "godiag serve", "version": "1"},
    "security": _AUTH,
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
        }
    },
    "paths": {
        "/healthz": {
            "get": {"security": [], "responses": {"200": {"description": "alive"}}},
        },
        "/api/v1/alerts": {
            "post": {
                "summary": "Alertmanager webhook (payload version 4); admin role",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["version", "status", "alerts"],
                                "properties": {
                                    "version": {"type": "string", "enum": ["4"]},
                                    "groupKey": {"type": "string"},
                                    "truncatedAlerts": {"type": "integer", "minimum": 0},
                                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                                    "receiver": {"type": "string"},
                                    "groupLabels": _STR_MAP,
                                    "commonLabels": _STR_MAP,
                                    "commonAnnotations": _STR_MAP,
                                    "externalURL": {"type": "string"},
                                    "notification_reason": {"type": "string"},
                                    "alerts": {"type": "array", "items": _ALERT, "maxItems": 20},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": {"description": "stored; diagnoses queued"},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "408": _ERR,
                    "413": _ERR,
                    "415": _ERR,
                },
            }
        },
        "/api/v1/incidents": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "incidents, newest first"}, "400": _ERR},
            }
        },
        "/api/v1/incidents/{iid}": {
            "get": {
                "parameters": [_IID],
                "responses": {
                    "200": {
                        "description": "one incident with its report",
                        "content": {"application/json": {"schema": _INCIDENT}},
                    },
                    "404": _ERR,
                },
            }
        },
        "/incidents/{iid}/artifacts/{aid}": {
            "get": {
                "parameters": [
                    _IID,
                    {"name": "aid", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "artifact bytes"}, "404": _ERR},
            }
        },
        "/metrics": {"get": {"responses": {"200": {"description": "Prometheus text"}}}},
    },
}
