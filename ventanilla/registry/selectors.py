from .models import InsuredPerson


def insured_find(*, id_type: str, id_number: str) -> InsuredPerson | None:
    return InsuredPerson.objects.filter(id_type=id_type, id_number=id_number).first()


def insured_with_history(*, id_number: str) -> InsuredPerson | None:
    """The person and their contact-data history, newest change first."""
    return (
        InsuredPerson.objects.filter(id_number=id_number)
        .prefetch_related("changes__case", "changes__changed_by")
        .first()
    )
