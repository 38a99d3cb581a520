"""The functions' logs of a whole conversation hold no phone number, name or message text."""

from atende.channels.whatsapp import sample

CONTACT = "5511966665555"
NAME = "Joana Prado"
TEXTS = [
    "Oi, aqui é a Joana Prado",
    "meu email é joana.prado@example.com e o cpf 123.456.789-09",
    "atendente",
]


def test_a_conversations_logs_contain_none_of_the_contacts_personal_data(whatsapp, stack):
    for offset, text in enumerate(TEXTS):
        message = sample.text_message(CONTACT, text, timestamp=1_800_000_000 + offset)
        body = sample.encode(sample.delivery([message], contact_name=NAME))
        assert whatsapp.post(body).status_code == 200
    whatsapp.wait_replies(4, timeout=30)
    log = (stack.run_dir / "functions.log").read_text()
    assert '"outcome": "answered"' in log  # the conversation was logged…
    for secret in (
        CONTACT,
        NAME,
        "Joana",
        "joana.prado@example.com",
        "123.456.789-09",
        "meu email",
        *TEXTS,
    ):
        assert secret not in log  # …without any of it
