"""The one composition root: picks an adapter for every port, lazily and once per instance.

Nothing here runs at import; each client is created the first time something needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from atende.ai.contract import ConversationAI
from atende.channels.plugin import ChannelDeps, ChannelPlugin, JobReport
from atende.channels.registry import UnknownChannelError, plugin, scheduled_job
from atende.config import TASK_SHARED_SECRET, Settings
from atende.errors import ConfigurationError
from atende.ports import (
    AgentAuthenticator,
    AsyncTaskQueue,
    AuditLog,
    CalendarSync,
    ChannelStateStore,
    Checkpoints,
    Clock,
    DeadLetterStore,
    OutboxStore,
    ProviderApi,
    ProviderSender,
    SecretSource,
    SessionReader,
    TaskAuthenticator,
    TaskQueue,
    TenantDirectory,
    UnitsOfWork,
)
from atende.tasks.contracts import PROCESS_INBOUND, SEND_OUTBOUND

if TYPE_CHECKING:
    # Imported where they are built: a webhook instance never loads the processing
    # pipeline (nor a worker the webhook's), which keeps each cold start to its own code.
    from atende.adapters.firestore.agent_tokens import FirestoreAgentTokens
    from atende.adapters.firestore.outbox_store import FirestoreOutboxStore
    from atende.agent_reply.desk import AgentDesk
    from atende.domain.task_attempt import TaskAttempt
    from atende.process_inbound.processor import InboundProcessor
    from atende.process_inbound.settings import ProcessingSettings
    from atende.send_outbound.sender import OutboundSender
    from atende.tasks.dead_letters import DeadLetterRecorder
    from atende.webhook.edge import WebhookEdge

T = TypeVar("T")


class Container:
    """The adapters of one function (`function`: its name; None: the CLI or a test).

    In the cloud an instance serves one function; the local stack serves all of them in one
    process, each with its own container, so each acts as its own identity: it reads only
    its declared secrets and enqueues as itself (see adapters/declared_secrets.py and
    adapters/cloud_tasks.py)."""

    def __init__(self, settings: Settings | None = None, function: str | None = None) -> None:
        self._settings = settings
        self.function = function
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}

    def _once(self, name: str, factory: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = factory()
            return cast(T, self._built[name])

    # -- configuration and infrastructure ------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._once("settings", lambda: self._settings or Settings())

    @property
    def secrets(self) -> SecretSource:
        def build() -> SecretSource:
            source: SecretSource
            if self.settings.secrets_backend == "env":
                from atende.adapters.env_secrets import EnvSecretSource

                source = EnvSecretSource()
            else:
                from atende.adapters.secret_manager import SecretManagerSource

                source = SecretManagerSource(self.settings.project)
            grants_file = self.settings.local_grants_file
            if grants_file and self.function:
                from atende.adapters.declared_secrets import DeclaredSecrets

                # The shared task secret stands in locally for OIDC tokens, which need no
                # secret in the cloud: every function that enqueues or is a task target has it.
                local_only = frozenset({TASK_SHARED_SECRET})
                return DeclaredSecrets.from_grants_file(
                    source, self.function, grants_file, local_only
                )
            return source

        return self._once("secrets", build)

    @property
    def clock(self) -> Clock:
        from atende.adapters.clock import SystemClock

        return self._once("clock", SystemClock)

    @property
    def checkpoints(self) -> Checkpoints:
        def build() -> Checkpoints:
            from atende.adapters.checkpoints import CrashOnceAt, NoCheckpoints

            fault_file = self.settings.fault_file
            return CrashOnceAt(fault_file) if fault_file else NoCheckpoints()

        return self._once("checkpoints", build)

    @property
    def firestore(self) -> Any:
        from atende.adapters.firestore.client import make_client

        return self._once("firestore", lambda: make_client(self.settings.project))

    def _task_secret(self) -> str | None:
        if self.settings.task_auth != "shared-secret":
            return None
        return self.secrets.get(TASK_SHARED_SECRET)

    @property
    def identity(self) -> str:
        """Who this container acts as towards the local emulators."""
        from atende.adapters.cloud_tasks import OPERATOR_IDENTITY

        return self.function or OPERATOR_IDENTITY

    @property
    def task_queue(self) -> TaskQueue:
        from atende.adapters.cloud_tasks import CloudTasksQueue

        return self._once(
            "task_queue",
            lambda: CloudTasksQueue(self.settings, self._task_secret(), identity=self.identity),
        )

    @property
    def async_task_queue(self) -> AsyncTaskQueue:
        from atende.adapters.cloud_tasks import AsyncCloudTasksQueue

        return self._once(
            "async_task_queue",
            lambda: AsyncCloudTasksQueue(
                self.settings, self._task_secret(), identity=self.identity
            ),
        )

    def task_authenticator(self, function_name: str) -> TaskAuthenticator:
        def build() -> TaskAuthenticator:
            from atende.adapters.task_auth import OidcAuthenticator, SharedSecretAuthenticator

            if self.settings.task_auth == "shared-secret":
                return SharedSecretAuthenticator(self.secrets.get(TASK_SHARED_SECRET))
            return OidcAuthenticator(
                audiences=[self.settings.function_url(function_name)],
                service_account=self.settings.tasks_service_account,
                accept_platform_verified=self.settings.task_oidc_platform_verified,
            )

        return self._once(f"task_auth:{function_name}", build)

    @property
    def agent_tokens(self) -> FirestoreAgentTokens:
        """The agent API tokens (`agent_tokens/{sha256}`), for the CLI and the authenticator."""
        from atende.adapters.firestore.agent_tokens import FirestoreAgentTokens

        return self._once("agent_tokens", lambda: FirestoreAgentTokens(self.firestore, self.clock))

    @property
    def agent_authenticator(self) -> AgentAuthenticator:
        def build() -> AgentAuthenticator:
            from atende.adapters.agent_auth import AgentTokenAuthenticator

            return AgentTokenAuthenticator(self.agent_tokens.find)

        return self._once("agent_auth", build)

    # -- channels ------------------------------------------------------------------------
    def _plugin(self, channel: str) -> ChannelPlugin:
        """The channel's declaration (channels/registry.py); UnknownChannelError if none."""
        return plugin(channel)

    def _channel_deps(self) -> ChannelDeps:
        return ChannelDeps(
            settings=self.settings,
            secrets=self.secrets,
            clock=self.clock,
            state=lambda: self.channel_state,
            tasks=lambda: self.task_queue,
        )

    @property
    def channel_state(self) -> ChannelStateStore:
        from atende.adapters.firestore.channel_state import FirestoreChannelState

        return self._once(
            "channel_state", lambda: FirestoreChannelState(self.firestore, self.clock)
        )

    def calendar_sync(self, channel: str) -> CalendarSync:
        def build() -> CalendarSync:
            factory = self._plugin(channel).calendar_sync
            if factory is None:
                raise ConfigurationError(f"channel {channel} has no calendar sync")
            return factory(self._channel_deps())

        return self._once(f"calendar_sync:{channel}", build)

    def job(self, name: str) -> Callable[[], JobReport]:
        """The scheduled job deployed as the function `name`, from its channel's plugin."""

        def build() -> Callable[[], JobReport]:
            job = scheduled_job(name)
            if job is None:
                raise ConfigurationError(f"no scheduled job named {name}")
            return job.build(self._channel_deps())

        return self._once(f"job:{name}", build)

    def webhook(self, channel: str) -> WebhookEdge:
        def build() -> WebhookEdge:
            from atende.webhook.edge import WebhookEdge

            factory = self._plugin(channel).connector
            if factory is None:
                raise ConfigurationError(f"channel {channel} has no webhook")
            return WebhookEdge(
                factory(self._channel_deps()),
                self.async_task_queue,
                self.settings.max_body_bytes,
                self.clock,
            )

        return self._once(f"webhook:{channel}", build)

    def text_limit(self, channel: str) -> int:
        """A channel's limit for one text message (its plugin's `text_limit`); the default
        for a channel that sends nothing, or for no channel at all."""
        from atende.process_inbound.decisions import DEFAULT_TEXT_LIMIT

        try:
            limit = self._plugin(channel).text_limit
        except UnknownChannelError:
            return DEFAULT_TEXT_LIMIT
        return DEFAULT_TEXT_LIMIT if limit is None else limit

    def _provider_api(self, channel: str) -> ProviderApi:
        try:
            factory = self._plugin(channel).provider_api
            if factory is None:
                # This channel sends nothing (calendar notifications go out on the contact's
                # channel): a record for it has no sender.
                raise NoSenderError(f"channel {channel} has no provider API")
            return factory(self._channel_deps())
        except UnknownChannelError:
            raise NoSenderError(f"no channel {channel}") from None
        except ImportError as error:
            # A channel we have whose code cannot load (a broken bundle or dependency): a
            # deploy fixes it, so its replies wait (and retry) instead of failing for good.
            raise ConfigurationError(
                f"channel {channel} failed to load", code="channel_unavailable"
            ) from error

    def sender(self, channel: str) -> ProviderSender:
        def build() -> ProviderSender:
            from atende.adapters.http_sender import HttpProviderSender, RetryPolicy, make_breaker

            s = self.settings
            return HttpProviderSender(
                self._provider_api(channel),
                make_breaker(channel, s.breaker_fail_max, s.breaker_reset_seconds),
                s.http_timeout_seconds,
                RetryPolicy(max_tries=s.send_max_tries),
            )

        return self._once(f"sender:{channel}", build)

    def dry_run_sender(self, channel: str) -> ProviderSender:
        """Builds and validates a record's provider request and sends nothing: for a tenant
        with `outbound: dry_run` (tenants/tenant_config.py)."""

        def build() -> ProviderSender:
            from atende.adapters.http_sender import DryRunSender

            return DryRunSender(self._provider_api(channel))

        return self._once(f"dry_run_sender:{channel}", build)

    # -- use cases -----------------------------------------------------------------------
    @property
    def units_of_work(self) -> UnitsOfWork:
        """The units of work the use cases drive (one Firestore transaction each)."""
        from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork

        def retention(tenant_id: str) -> timedelta:
            # The instance's one tenant cache: no second reader of the same documents.
            return self.tenants.get(tenant_id).session_retention

        return self._once(
            "units_of_work",
            lambda: FirestoreUnitsOfWork(
                self.firestore, self.clock, self.checkpoints, retention=retention
            ),
        )

    @property
    def outbox_store(self) -> OutboxStore:
        return self._firestore_outbox

    @property
    def _firestore_outbox(self) -> FirestoreOutboxStore:
        """The outbox adapter, which is also the sender's `CallNotes`."""
        from atende.adapters.firestore.outbox_store import FirestoreOutboxStore

        return self._once("outbox_store", lambda: FirestoreOutboxStore(self.firestore, self.clock))

    @property
    def session_reader(self) -> SessionReader:
        from atende.adapters.firestore.outbox_store import FirestoreSessionReader

        return self._once(
            "session_reader", lambda: FirestoreSessionReader(self.firestore, self.clock)
        )

    @property
    def tenants(self) -> TenantDirectory:
        from atende.adapters.firestore.tenant_store import FirestoreTenantStore

        return self._once(
            "tenants",
            lambda: FirestoreTenantStore(self.firestore, self.settings.tenant_cache_seconds),
        )

    @property
    def ai(self) -> ConversationAI | None:
        """The AI step, or None (fully deterministic) when no API key is configured."""

        def build() -> ConversationAI | None:
            from atende.ai.settings import AI_API_KEY, AiSettings

            key = self.secrets.get(AI_API_KEY)
            if not key:
                return None
            from atende.adapters.openai_client import OpenAiConversation

            return OpenAiConversation(AiSettings(), key)

        return self._once("ai", build)

    @property
    def audit_log(self) -> AuditLog:
        from atende.adapters.firestore.audit_log import FirestoreAuditLog

        return self._once("audit_log", lambda: FirestoreAuditLog(self.firestore))

    def worker_handler(self, function_name: str) -> Callable[[bytes, str, TaskAttempt], str]:
        """The use case behind a worker function, recording permanently rejected input and,
        on a task's last attempt, work that still fails as a dead letter."""

        def build() -> Callable[[bytes, str, TaskAttempt], str]:
            from atende.tasks.dead_letters import (
                dead_lettering,
                describe_inbound,
                describe_outbound,
            )
            from atende.tasks.rejections import audited

            inbound = function_name == PROCESS_INBOUND
            handler = self.processor.handle if inbound else self.outbound.handle
            return dead_lettering(
                audited(handler, self.audit_log, self.clock.now, function_name),
                self._dead_letter_recorder(function_name),
                describe_inbound if inbound else describe_outbound,
            )

        return self._once(f"worker:{function_name}", build)

    @property
    def dead_letters(self) -> DeadLetterStore:
        from atende.adapters.firestore.dead_letters import FirestoreDeadLetterStore

        return self._once("dead_letters", lambda: FirestoreDeadLetterStore(self.firestore))

    def _dead_letter_recorder(self, function_name: str) -> DeadLetterRecorder:
        def build() -> DeadLetterRecorder:
            from atende.tasks.dead_letters import DeadLetterRecorder

            return DeadLetterRecorder(
                self.dead_letters,
                self.clock,
                function_name,
                "inbound" if function_name == PROCESS_INBOUND else "outbound",
                timedelta(days=self.settings.outbox_ttl_days),
            )

        return self._once(f"dead_letter_recorder:{function_name}", build)

    def _processing_policy(self) -> ProcessingSettings:
        from atende.process_inbound.settings import ProcessingSettings

        s = self.settings
        return ProcessingSettings(
            dedupe_ttl=timedelta(days=s.dedupe_ttl_days),
            outbox_ttl=timedelta(days=s.outbox_ttl_days),
            answer_hold=timedelta(seconds=s.answer_hold_seconds),
            answer_max_wait=timedelta(seconds=s.answer_max_wait_seconds),
        )

    @property
    def agent_desk(self) -> AgentDesk:
        def build() -> AgentDesk:
            from atende.agent_reply.desk import AgentDesk
            from atende.tasks.follow_ups import FollowUps

            return AgentDesk(
                self.units_of_work,
                self.tenants,
                FollowUps(self.task_queue),
                self.clock,
                self._processing_policy(),
                self.text_limit,
            )

        return self._once("agent_desk", build)

    @property
    def processor(self) -> InboundProcessor:
        def build() -> InboundProcessor:
            from atende.ai.settings import AiSettings
            from atende.conversation.engine import ConversationEngine
            from atende.process_inbound.conversation_deps import AiStep, ConversationDeps
            from atende.process_inbound.processor import InboundProcessor

            ai = self.ai
            step = None
            if ai is not None:
                ai_settings = AiSettings()
                step = AiStep(ai, ai_settings.history_chars, ai_settings.model)
            return InboundProcessor(
                self.units_of_work,
                self.task_queue,
                ConversationEngine(),
                self.clock,
                self.checkpoints,
                self._processing_policy(),
                ConversationDeps(
                    self.tenants, self.session_reader, self.text_limit, step, self.calendar_sync
                ),
                dead_letters=self._dead_letter_recorder(PROCESS_INBOUND),
                poison_after_attempts=self.settings.poison_after_attempts,
            )

        return self._once("processor", build)

    @property
    def outbound(self) -> OutboundSender:
        def build() -> OutboundSender:
            from atende.send_outbound.sender import OutboundSender

            return OutboundSender(
                self.units_of_work,
                self.outbox_store,
                _LazySenders(self.sender),
                self.clock,
                self.checkpoints,
                timedelta(seconds=self.settings.reply_order_max_wait_seconds),
                dead_letters=self._dead_letter_recorder(SEND_OUTBOUND),
                call_notes=self._firestore_outbox,
                tenants=self.tenants,
                dry_run_senders=_LazySenders(self.dry_run_sender),
            )

        return self._once("outbound", build)


class NoSenderError(LookupError):
    """A record of a channel that sends nothing, or of no channel at all: it never will."""


class _LazySenders(Mapping[str, ProviderSender]):
    """Builds a channel's sender the first time a record of that channel is sent. Only a
    channel that has no sender is missing; one that fails to build (missing settings, code
    that cannot load) raises its transient ConfigurationError, so the send is retried."""

    def __init__(self, build: Callable[[str], ProviderSender]) -> None:
        self._build = build

    def __getitem__(self, channel: str) -> ProviderSender:
        try:
            return self._build(channel)
        except NoSenderError:
            raise KeyError(channel) from None

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_containers: dict[str | None, Container] = {}
_override: Container | None = None
_container_lock = threading.Lock()


def container(function: str | None = None) -> Container:
    """The container of `function` in this instance, created on first call (None: the CLI's)."""
    with _container_lock:
        if _override is not None:
            return _override
        if function not in _containers:
            _containers[function] = Container(function=function)
        return _containers[function]


def reset_container(new: Container | None = None) -> None:
    """For tests: serve every function from `new`, or (None) drop every container."""
    global _override
    with _container_lock:
        _override = new
        _containers.clear()
