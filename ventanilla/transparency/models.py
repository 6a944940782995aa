from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .constants import FigureSource


class PublishedMonth(models.Model):
    """One month of the figures the institute published before the Ventanilla counted them
    itself (the procedure's "Transparencia" table, 2024-01 to 2026-04): served exactly as
    published, never recomputed."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    complaints = models.PositiveIntegerField()
    attentions = models.PositiveIntegerField()
    source = models.CharField(
        max_length=10, choices=FigureSource.choices, default=FigureSource.SEED
    )

    class Meta:
        ordering = ["year", "month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="published_month_unique"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="published_month_valid"
            ),
        ]
        verbose_name = "mes publicado"
        verbose_name_plural = "meses publicados"

    def __str__(self) -> str:
        return (
            f"{self.year}-{self.month:02d}: {self.complaints} quejas, {self.attentions} atenciones"
        )
