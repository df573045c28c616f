"""The per-request GraphQL context: who is asking, the runtime, and the request's DataLoaders."""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from authz.policy import Authorizer
from authz.subjects import ANONYMOUS, Viewer
from core.runtime import Runtime

if TYPE_CHECKING:
    from resolvers.loaders import Loaders


class Context(BaseContext):
    def __init__(
        self,
        rt: Runtime,
        authorizer: Authorizer,
        viewer: Viewer = ANONYMOUS,
        *,
        request_id: str | None = None,
        auth_error: str | None = None,
        csrf_error: str | None = None,
        brand_error: str | None = None,
    ) -> None:
        super().__init__()
        self.rt = rt
        self.authorizer = authorizer
        self.viewer = viewer
        self.request_id = request_id
        self.auth_error = auth_error
        self.csrf_error = csrf_error
        self.brand_error = brand_error
        # The rate limit, when this request was counted before GraphQL saw it (schema/kept_answers.py).
        self.rate_limit_decided = False
        self.rate_limit_refusal: GraphQLError | None = None
        # A session whose revocation is still to be checked: RequestGate checks it with the rate-limit hit, in
        # one Redis command, before anything uses the viewer (server.get_context, `revocation_later`).
        self.unchecked_session: uuid.UUID | None = None

    def session_revoked(self) -> None:
        """The viewer's session was revoked: refused as `viewer_for` refuses it, and counted by IP."""
        self.auth_error, self.brand_error = "session revoked", None
        self.viewer = ANONYMOUS.with_meta(self.viewer.meta)

    @property
    def allowed(self) -> frozenset[str]:
        """The schema coordinates this viewer may use (cached per roles and brand)."""
        return self.authorizer.allowed(self.viewer.roles, self.viewer.brand_code)

    @cached_property
    def loaders(self) -> Loaders:
        from resolvers.loaders import Loaders

        return Loaders(self.rt)


Info = StrawberryInfo[Context, Any]
