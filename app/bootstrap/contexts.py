"""The list of context wirings, in dependency order."""

from __future__ import annotations

from collections.abc import Callable

from app.api.container import Services
from app.bootstrap import appeals as appeals_context
from app.bootstrap import channels as channels_context
from app.bootstrap import delivery, identity, notifications, organisation, volunteers
from app.bootstrap import emergency as emergency_context
from app.bootstrap import hazards as hazards_context
from app.bootstrap import help as help_context
from app.bootstrap import media as media_context
from app.bootstrap import points as points_context
from app.bootstrap import realtime as realtime_context
from app.bootstrap import review as review_context
from app.bootstrap import rewards as rewards_context
from app.bootstrap import sync as sync_context
from app.bootstrap import tips as tips_context
from app.bootstrap.platform import Platform

WIRINGS: list[Callable[[Services, Platform], None]] = []
WIRINGS.append(organisation.wire)  # first: other contexts route locations through it
WIRINGS.append(identity.wire)
WIRINGS.append(volunteers.wire)
WIRINGS.append(media_context.wire)  # before contexts that register media visibility
WIRINGS += [delivery.wire, notifications.wire]
WIRINGS.append(channels_context.wire)
WIRINGS.append(tips_context.wire)  # after media and notifications: registers into both
WIRINGS.append(realtime_context.wire)  # publishes tip.* events to API subscribers
WIRINGS.append(appeals_context.wire)  # after tips: reads clues through the tip service
WIRINGS.append(help_context.wire)  # after media and notifications: registers into both
WIRINGS.append(hazards_context.wire)  # after media and notifications: registers into both
WIRINGS.append(emergency_context.wire)  # after volunteers: reads teams and certificates
WIRINGS.append(points_context.wire)  # after tips and notifications: credits tip reporters
WIRINGS.append(rewards_context.wire)  # after points: cancels rewards on points.reversed
WIRINGS.append(sync_context.wire)  # after tips, notifications, hazards: reads through them
WIRINGS.append(review_context.wire)  # after hazards, tips and points: limits and reverses
