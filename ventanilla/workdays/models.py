from django.db import models


class Holiday(models.Model):
    """A weekday on which public offices do not work (weekends are never working days).

    Seeded from the `holidays` package, which misses decree rest days and lists
    some days that were in fact worked, so administrators edit this table.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", "Paquete holidays"
        MANUAL = "manual", "Editado por un administrador"

    date = models.DateField(unique=True)
    name = models.CharField("nombre", max_length=120)
    is_working_day = models.BooleanField(
        "se trabaja",
        default=False,
        help_text="Marque si el feriado se trasladó y este día sí se trabajó.",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        ordering = ["date"]
        verbose_name = "feriado"
        verbose_name_plural = "feriados"

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
