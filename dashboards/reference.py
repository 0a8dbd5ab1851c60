"""Published figures to show beside the clinic's own (../shared/spec/domain-facts.md), with their sources.

Each figure says which of our metrics and indications it compares with; figures measured differently
(a 30% pain threshold, a share of patients rather than of sessions) say so in their note.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPRESSION = ("All", "TRD", "MDD", "BIPOLAR_DEP", "SUICIDAL_IDEATION", "OTHER")


@dataclass(frozen=True)
class PublishedFigure:
    study: str
    setting: str
    n: int | None
    metric: str  # a metric name of the published metrics table
    value: float  # on the metric's scale: a proportion, or a rate per 100 sessions
    indications: tuple[str, ...]  # the indication filters it is shown with
    note: str = ""

    @property
    def label(self) -> str:
        size = f", n={self.n}" if self.n else ""
        return f"{self.study} ({self.setting}{size})"


FIGURES: tuple[PublishedFigure, ...] = (
    PublishedFigure("McInnes 2022", "real-world IV, PHQ-9", 537, "response", 0.536, DEPRESSION),
    PublishedFigure("McInnes 2022", "real-world IV, PHQ-9", 537, "remission", 0.289, DEPRESSION),
    PublishedFigure("Oliver 2022", "real-world IV, PHQ-9", 424, "response", 0.50, DEPRESSION, "within 6 weeks"),
    PublishedFigure("Oliver 2022", "real-world IV, PHQ-9", 424, "remission", 0.20, DEPRESSION, "within 6 weeks"),
    PublishedFigure("Murrough 2013", "RCT, 6 IV infusions, MADRS", 24, "response", 0.708, DEPRESSION),
    PublishedFigure("Anand 2023 (ELEKT-D)", "RCT, IV vs ECT, QIDS-SR16", 403, "response", 0.554, DEPRESSION),
    PublishedFigure("KetECT 2023", "RCT, IV vs ECT, MADRS", 186, "remission", 0.46, DEPRESSION),
    PublishedFigure("Feder 2021", "RCT, PTSD, PCL-5/CAPS", 30, "response", 0.67, ("All", "PTSD")),
    PublishedFigure("Zhao 2018", "CRPS pain", None, "response", 0.69, ("All", "CHRONIC_PAIN"),
                    ">= 30% pain relief, not 50%"),
    PublishedFigure("McInnes 2022", "real-world IV, PHQ-9, Kaplan-Meier", 537, "still_responding_4w", 0.80,
                    DEPRESSION, "approximately"),
    PublishedFigure("McInnes 2022", "real-world IV, PHQ-9, Kaplan-Meier", 537, "still_responding_8w", 0.60,
                    DEPRESSION, "approximately"),
    PublishedFigure("Yale 2024", "IV, real-world", None, "severe_hypertension", 0.98, DEPRESSION + (
        "PTSD", "ANXIETY", "OCD", "CHRONIC_PAIN"), "0.98% of infusions; 12.5% of patients"),
)

# Figures with no number on our scales: shown as text beside the plots they concern.
DURABILITY_NOTES = (
    "Murrough 2013 (RCT, 6 IV infusions, MADRS, n=24): median time to relapse 18 days.",
    "Feder 2021 (RCT, PTSD, n=30): median time to loss of response 27.5 days.",
)
SAFETY_NOTES = (
    "Yale 2024 (IV, real-world): mean systolic rise about 16 mmHg.",
    "Rodrigues 2022 (IV, real-world), share of patients: drowsiness 56%, dizziness 45%, dissociation 36%, "
    "nausea 13%.",
    "Spravato label (intranasal), share of patients: dissociation 41%, dizziness 29%, nausea 28%, sedation 23%, "
    "headache 20%, BP increase 10%, vomiting 9%.",
)


def figures_for(metric: str, indication: str) -> tuple[PublishedFigure, ...]:
    """Published figures comparable with ``metric`` under the indication filter."""
    return tuple(f for f in FIGURES if f.metric == metric and indication in f.indications)
