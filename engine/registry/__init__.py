"""Talking to OCI registries: auth, credentials, the HTTP client, pull and push.

The facade (:mod:`engine.api_registry`) is the way in; httpx never leaves this
package (:mod:`.client` translates its errors).
"""
