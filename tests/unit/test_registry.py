"""The registry model without HTTP: pushes move tags as ``docker push`` does, ids follow the
seed and the order of commands, and deletions cascade."""

from __future__ import annotations

from simulator.registry import Registry

SHA_A, SHA_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def registry(seed: int = 0) -> Registry:
    return Registry(seed, 100.0, lambda: 200.0)


def test_a_push_moves_the_tag_and_a_repush_keeps_it() -> None:
    reg = registry()
    first = reg.push("ws", "app", "latest", SHA_A)
    [tag] = first.tags
    assert reg.push("ws", "app", "latest", SHA_A) is first and first.tags == [tag]
    second = reg.push("ws", "app", "latest", SHA_B)
    assert first.tags == [] and [t.name for t in second.tags] == ["latest"]
    [repo] = reg.repositories("ws")
    assert repo.recent_image is second and len(repo.images) == 2
    assert repo.full_name == "cr.ai.cloud.ru/ws/app" and reg.repositories("other") == []


def test_ids_follow_the_seed_and_the_commands() -> None:
    def ids(seed: int) -> list[str]:
        reg = registry(seed)
        image = reg.push("ws", "app", "latest", SHA_A)
        tag = reg.create_tag("ws", image.id, "v1", None)
        return [image.repository.id, image.id, tag.id]

    assert ids(0) == ids(0) and ids(0) != ids(1)
    assert len(set(ids(0))) == 3


def test_deleting_a_repository_takes_its_images_and_tags() -> None:
    reg = registry()
    image = reg.push("ws", "app", "latest", SHA_A)
    assert reg.tag_count() == 1
    assert reg.delete_repositories("other", [image.repository.id]) == []
    assert reg.delete_repositories("ws", [image.repository.id]) == [image.repository.id]
    assert reg.tag_count() == 0 and reg.repositories("ws") == []
