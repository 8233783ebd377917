"""Fixed vocabularies of the emergency context: English codes in data, Chinese labels
for people."""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """What a unit or member can do on scene (能力)."""

    FIRST_AID = "first_aid"
    FIRE = "fire"
    WATER_RESCUE = "water_rescue"
    CROWD_CONTROL = "crowd_control"
    SEARCH = "search"
    TRAFFIC_CONTROL = "traffic_control"


CAPABILITY_LABELS: dict[Capability, str] = {
    Capability.FIRST_AID: "急救",
    Capability.FIRE: "初期火灾扑救",
    Capability.WATER_RESCUE: "水上救援",
    Capability.CROWD_CONTROL: "人群疏导",
    Capability.SEARCH: "搜寻",
    Capability.TRAFFIC_CONTROL: "交通疏导",
}


class EquipmentKind(StrEnum):
    AED = "aed"
    EXTINGUISHER = "extinguisher"
    FIRST_AID_KIT = "first_aid_kit"
    LIFE_BUOY = "life_buoy"
    STRETCHER = "stretcher"
    MEGAPHONE = "megaphone"
    OTHER = "other"


EQUIPMENT_LABELS: dict[EquipmentKind, str] = {
    EquipmentKind.AED: "自动体外除颤器（AED）",
    EquipmentKind.EXTINGUISHER: "灭火器",
    EquipmentKind.FIRST_AID_KIT: "急救包",
    EquipmentKind.LIFE_BUOY: "救生圈",
    EquipmentKind.STRETCHER: "担架",
    EquipmentKind.MEGAPHONE: "扩音器",
    EquipmentKind.OTHER: "其他",
}


class IncidentType(StrEnum):
    """急、难、险: what happened."""

    FIGHT = "fight"
    FIRE = "fire"
    DROWNING = "drowning"
    LOST_CHILD = "lost_child"
    MEDICAL = "medical"
    CROWD = "crowd"
    OTHER = "other"


INCIDENT_TYPE_LABELS: dict[IncidentType, str] = {
    IncidentType.FIGHT: "打架斗殴",
    IncidentType.FIRE: "火情",
    IncidentType.DROWNING: "落水",
    IncidentType.LOST_CHILD: "儿童走失",
    IncidentType.MEDICAL: "突发疾病",
    IncidentType.CROWD: "人群聚集",
    IncidentType.OTHER: "其他",
}


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """1 (low) to 4 (critical), for sorting and for clients that send numbers."""
        return _SEVERITY_ORDER.index(self) + 1

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        if not 1 <= rank <= len(_SEVERITY_ORDER):
            raise ValueError(f"severity rank {rank} is not 1 to {len(_SEVERITY_ORDER)}")
        return _SEVERITY_ORDER[rank - 1]


_SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)

SEVERITY_LABELS: dict[Severity, str] = {
    Severity.LOW: "一般",
    Severity.MEDIUM: "较大",
    Severity.HIGH: "重大",
    Severity.CRITICAL: "特别重大",
}


class RaisedBy(StrEnum):
    """Who raised the incident (the station is informed first in every case)."""

    OFFICER = "officer"
    COMMAND_CENTRE = "command_centre"  # 指挥中心, an API client
    VOLUNTEER = "volunteer"


RAISED_BY_LABELS: dict[RaisedBy, str] = {
    RaisedBy.OFFICER: "民警",
    RaisedBy.COMMAND_CENTRE: "指挥中心",
    RaisedBy.VOLUNTEER: "志愿者",
}
