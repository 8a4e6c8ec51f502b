"""The simulated ``npu`` device behaves like a PyTorch device (and like an Ascend NPU)."""

from __future__ import annotations

import copy
import gc
import io
import pickle

import pytest
import torch


def test_factories_moves_and_attributes(sim):
    x = torch.randn(2, 3, device="npu")
    assert x.device == torch.device("npu", 0) and x.is_npu and not x.is_cpu
    assert torch.ones(2).to("npu").device.type == "npu"
    assert torch.ones(2).npu(1).device == torch.device("npu:1")
    assert torch.zeros(2, device=torch.device("npu:1")).get_device() == 1
    assert torch.tensor([1.0, 2.0], device="npu").tolist() == [1.0, 2.0]
    assert torch.as_tensor(0.5, device="npu").item() == 0.5
    back = x.cpu()
    assert back.device.type == "cpu" and torch.equal(back, x.to("cpu"))
    assert "device='npu:0'" in repr(x)


def test_numpy_refuses_like_cuda(sim):
    x = torch.ones(2, device="npu")
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a + b,
        lambda a, b: a * b - b / 3,
        lambda a, b: a @ b.T,
        lambda a, b: torch.relu(a).sum(dim=1),
        lambda a, b: torch.softmax(a, dim=-1),
        lambda a, b: torch.cat([a, b]).mean(0),
        lambda a, b: a[:, 1:].contiguous().view(-1),
        lambda a, b: torch.where(a > 0, a, b),
        lambda a, b: torch.nn.functional.conv2d(a[None, None], b[None, None]),
        lambda a, b: torch.topk(a, 2, dim=1).values,
        lambda a, b: a.argmax(dim=0),
        lambda a, b: torch.nn.functional.layer_norm(a, (a.shape[-1],)),
    ],
)
def test_results_equal_the_cpu(sim, fn):
    a, b = torch.randn(4, 5), torch.randn(4, 5)
    expected = fn(a, b)
    got = fn(a.to("npu"), b.to("npu"))
    assert got.device.type == "npu"
    torch.testing.assert_close(got.cpu(), expected)


def test_in_place_and_views_share_memory(sim):
    x = torch.zeros(4, device="npu")
    view = x[1:3]
    view += 1
    assert x.cpu().tolist() == [0.0, 1.0, 1.0, 0.0]
    y = x.add_(1)
    assert y is x


def test_views_keep_their_storage_counted_until_the_last_one_dies(sim):
    torch.npu.empty_cache()
    before = torch.npu.memory_allocated()
    x = torch.ones(1024, 1024, device="npu")
    size = torch.npu.memory_allocated() - before
    assert size == (4 << 20) + 512  # 32 bytes of padding, rounded to 512
    pieces = x.split(256)          # a list of views
    row = x[3]                      # a view with a storage offset
    assert row.storage_offset() == 3 * 1024 and row.cpu().sum().item() == 1024
    alias = x.t().detach()
    del x
    assert torch.npu.memory_allocated() - before == size  # the views still hold the storage
    del pieces, row
    assert torch.npu.memory_allocated() - before == size
    del alias
    gc.collect()
    assert torch.npu.memory_allocated() == before


def test_inference_mode_views_and_moves_behave_like_the_cpu(sim):
    made_outside = torch.arange(6.0).reshape(3, 2)
    on_npu = made_outside.to("npu")
    with torch.inference_mode():
        for view in (lambda x: x.t(), lambda x: x.view(6), lambda x: x.detach(), lambda x: x[1],
                     lambda x: x.split(1)[0]):
            expected, got = view(made_outside), view(on_npu)
            assert got.device.type == "npu" and got.is_inference() == expected.is_inference()
            assert torch.equal(got.cpu(), expected)
        # to()/cpu() may return their input, but copy when the device or dtype changes
        back = on_npu.cpu()
        assert type(back) is torch.Tensor and back.device.type == "cpu" and torch.equal(back, made_outside)
        assert on_npu.to(torch.float16).dtype == torch.float16
        assert on_npu.to("npu") is on_npu


def test_backward_runs_on_the_calling_thread(sim):
    # Like CPU tensors; a worker thread would bring a second OpenMP team and slow every kernel.
    import threading

    seen = []
    w = torch.ones(3, device="npu", requires_grad=True)
    w.register_hook(lambda grad: seen.append(threading.current_thread()))
    (w * 2).sum().backward()
    assert seen == [threading.current_thread()]
    assert w.grad.device == torch.device("npu:0") and w.grad.cpu().tolist() == [2.0, 2.0, 2.0]


def test_mixing_devices_fails_like_hardware(sim):
    a = torch.ones(2, device="npu:0")
    with pytest.raises(RuntimeError, match="same device.*npu:0 and npu:1"):
        a + torch.ones(2, device="npu:1")
    with pytest.raises(RuntimeError, match="same device.*npu:0 and cpu"):
        a + torch.ones(2)
    assert (a + torch.tensor(1.0)).cpu().tolist() == [2.0, 2.0]  # 0-dim CPU scalars are allowed


def test_set_device_and_bad_index(sim):
    torch.npu.set_device(1)
    assert torch.npu.current_device() == 1
    assert torch.randn(1, device="npu").device == torch.device("npu:1")
    assert torch.tensor([1.0], device="npu").device == torch.device("npu:1")
    assert torch.ones(1).to("npu").device == torch.device("npu:1")
    assert torch.ones(1).to("npu:0").device == torch.device("npu:0"), "an explicit index is respected"
    assert torch.zeros(1, device="npu:0").device == torch.device("npu:0")
    with torch.npu.device(0):
        assert torch.empty(1, device="npu").get_device() == 0
    assert torch.npu.current_device() == 1
    with pytest.raises(RuntimeError, match="Invalid device npu:7.*2 simulated NPU"):
        torch.npu.set_device(7)
    with pytest.raises(RuntimeError, match="Invalid device npu:5"):
        torch.ones(1, device="npu:5")


def test_bad_device_ids_raise_torch_npus_exception_types(sim):
    # where torch_npu checks an id, and so which exception a learner's code meets on hardware:
    # torch_npu/npu/__init__.py checks queries in Python (AssertionError "Invalid device id") ...
    for query in (torch.npu.get_device_properties, torch.npu.get_device_name, torch.npu.mem_get_info,
                  torch.npu.utilization, lambda index: torch.npu.can_device_access_peer(0, index)):
        with pytest.raises(AssertionError, match="Invalid device npu:9.*2 simulated NPU"):
            query(9)
    with pytest.raises(AssertionError, match="Invalid device npu:9"):
        torch.npu.get_device_properties("npu:9")
    # ... torch_npu/npu/utils.py _get_device_index refuses what is not an npu device (ValueError) ...
    for call in (torch.npu.set_device, torch.npu.get_device_properties, torch.npu.memory_allocated,
                 torch.npu.synchronize):
        with pytest.raises(ValueError, match="Expected a npu device, but got: cuda:0"):
            call("cuda:0")
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or an integer"):
        torch.npu.set_device(1.0)
    # ... and hands any int to the C++ runtime (RuntimeError), except that a negative id selects nothing
    for call in (torch.npu.set_device, torch.npu.synchronize, torch.npu.memory_allocated,
                 lambda index: torch.randn(2, device=f"npu:{index}"),
                 lambda index: torch.ones(1).to(torch.device("npu", index))):
        with pytest.raises(RuntimeError, match="Invalid device npu:7") as raised:
            call(7)
        assert not isinstance(raised.value, (AssertionError, ValueError))
    torch.npu.set_device(-1)
    assert torch.npu.current_device() == 0
    with torch.npu.device(-1):
        assert torch.npu.current_device() == 0
    # synchronize runs inside `with torch.npu.device(device)`: -1 waits for the current device
    torch.npu.set_device(1)
    busy = torch.ones(16 << 20, device="npu:1")
    for _ in range(10):
        busy.add_(1)  # memory-bound: the device falls behind the host
    done = torch.npu.Event()
    done.record()
    torch.npu.synchronize(0)
    assert not done.query()  # another device's synchronize does not wait for npu:1
    torch.npu.synchronize(-1)
    assert done.query() and torch.npu.current_device() == 1
    # so is a new Stream; the memory statistics check the id in C++ and refuse -1 there
    assert torch.npu.Stream(device=-1).device == torch.device("npu:1")
    with pytest.raises(RuntimeError, match="Invalid device npu:-1"):
        torch.npu.memory_allocated(-1)
    torch.npu.set_device(0)
    assert torch.npu.get_device_capability(9) is None  # torch_npu does not look at the argument
    # torch_npu/npu/random.py indexes its tuple of default generators with the id
    with pytest.raises(IndexError, match="Invalid device npu:9"):
        torch.npu.get_rng_state(9)
    # every one of them is still the lab's device error, a RuntimeError, as before
    with pytest.raises(RuntimeError):
        torch.npu.get_device_properties(9)


def test_autograd_on_both_devices(sim):
    for index in (0, 1):
        w = torch.randn(3, 2, device=f"npu:{index}", requires_grad=True)
        (w * 2).sum().backward()
        assert w.grad.device == torch.device("npu", index)
        assert torch.equal(w.grad.cpu(), torch.full((3, 2), 2.0))


def test_cross_device_copy_is_differentiable(sim):
    w = torch.randn(3, device="npu:0", requires_grad=True)
    moved = w.to("npu:1")
    assert moved.device == torch.device("npu:1")
    (moved * 3).sum().backward()
    assert w.grad.device == torch.device("npu:0")
    assert torch.equal(w.grad.cpu(), torch.full((3,), 3.0))


OPTIMIZERS = [torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop, torch.optim.Adagrad,
              torch.optim.Adadelta, torch.optim.Adamax, torch.optim.NAdam, torch.optim.RAdam, torch.optim.ASGD,
              torch.optim.Rprop]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("foreach", [False, True])
def test_every_optimizer_matches_the_cpu(sim, optimizer, foreach):
    torch.manual_seed(0)
    cpu_model = torch.nn.Linear(4, 3)
    npu_model = copy.deepcopy(cpu_model).to("npu")
    x = torch.randn(8, 4)
    for model, data in ((cpu_model, x), (npu_model, x.to("npu"))):
        opt = optimizer(model.parameters(), lr=0.01, foreach=foreach)
        for _ in range(2):
            opt.zero_grad()
            model(data).pow(2).sum().backward()
            opt.step()
    torch.testing.assert_close(npu_model.weight.detach().cpu(), cpu_model.weight.detach())


def test_fused_adam(sim):
    model = torch.nn.Linear(4, 2).to("npu")
    opt = torch.optim.Adam(model.parameters(), lr=0.1, fused=True)
    before = model.weight.detach().cpu().clone()
    model(torch.randn(3, 4, device="npu")).sum().backward()
    opt.step()
    assert not torch.equal(before, model.weight.detach().cpu())


def test_save_and_load_across_devices(sim, tmp_path):
    model = torch.nn.Linear(3, 2).to("npu")
    path = tmp_path / "ckpt.pt"
    torch.save(model.state_dict(), path)
    on_cpu = torch.load(path, map_location="cpu")
    assert on_cpu["weight"].device.type == "cpu"
    torch.testing.assert_close(on_cpu["weight"], model.weight.detach().cpu())
    on_npu1 = torch.load(path, map_location="npu:1")
    assert on_npu1["weight"].device == torch.device("npu:1")
    cpu_path = tmp_path / "cpu.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), cpu_path)
    loaded = torch.load(cpu_path, map_location="npu:0")
    assert loaded["weight"].device == torch.device("npu:0")
    fresh = torch.nn.Linear(3, 2).to("npu")
    fresh.load_state_dict(loaded)
    torch.testing.assert_close(fresh.weight.detach().cpu(), loaded["weight"].cpu())


def test_load_with_every_kind_of_map_location(sim, tmp_path):
    # torch.load's map_location (PyTorch torch/serialization.py _get_restore_location) on a checkpoint
    # of NPU tensors: the file tags their storages "npu:N", as torch_npu's (torch_npu/utils/serialization.py)
    weight = torch.arange(6.0, device="npu:1").reshape(2, 3)
    path = tmp_path / "npu.pt"
    torch.save({"weight": weight, "tail": weight[:, 1:]}, path)
    seen = []

    def keep_on_host(storage, location):
        seen.append(location)
        return storage

    on_host = torch.load(path, map_location=keep_on_host)
    assert seen == ["npu:1"] and on_host["weight"].device.type == "cpu"
    assert on_host["weight"].tolist() == weight.tolist()
    for map_location, device in [(lambda storage, loc: storage.npu(), "npu:0"),
                                 (lambda storage, loc: storage.npu(1), "npu:1"),
                                 ({"npu:1": "npu:0"}, "npu:0"), (torch.device("npu:0"), "npu:0"),
                                 (torch.device("cpu"), "cpu"), ({"npu:1": "cpu"}, "cpu"), (None, "npu:1")]:
        loaded = torch.load(path, map_location=map_location, weights_only=True)
        assert loaded["weight"].device == torch.device(device), map_location
        assert loaded["weight"].tolist() == weight.tolist()
        loaded["weight"][0, 2] = 9.0  # a view saved with its base still shares its storage
        assert loaded["tail"][0, 1].item() == 9.0
    # the legacy format (and so plain pickle) restores the storage before reading its bytes in
    torch.save(weight, path, _use_new_zipfile_serialization=False)
    assert torch.load(path, weights_only=False).device == torch.device("npu:1")
    assert pickle.loads(pickle.dumps(weight)).tolist() == weight.tolist()


def test_storage_npu_is_the_generated_privateuse1_method(sim):
    host = torch.arange(3.0).untyped_storage()
    moved = host.npu()
    assert moved.is_npu and not host.is_npu and moved.device == torch.device("npu:0")
    assert moved.npu() is moved and moved.npu(1).device == torch.device("npu:1")
    typed = torch.arange(3.0).storage().npu(1)
    assert typed.is_npu and typed.device == torch.device("npu:1") and typed.dtype == torch.float32


def test_deepcopy_and_pickle_modules(sim):
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU()).to("npu")
    twin = copy.deepcopy(model)
    assert isinstance(twin[0].weight, torch.nn.Parameter) and twin[0].weight.device.type == "npu"
    assert twin[0].weight is not model[0].weight
    torch.testing.assert_close(twin[0].weight.detach().cpu(), model[0].weight.detach().cpu())
    clone = pickle.loads(pickle.dumps(model))
    assert isinstance(clone[0].weight, torch.nn.Parameter) and clone[0].weight.device.type == "npu"


def test_dataloader_pin_memory_and_non_blocking(sim):
    data = torch.utils.data.TensorDataset(torch.randn(8, 3), torch.arange(8))
    loader = torch.utils.data.DataLoader(data, batch_size=4, pin_memory=True)
    for xb, yb in loader:
        assert xb.is_pinned()
        moved = xb.to("npu", non_blocking=True)
        assert moved.device.type == "npu"
    assert not torch.randn(2).is_pinned()


def test_factories_make_pinned_host_memory(sim):
    # pin_memory=True on a CPU factory: page-locked host memory (torch_npu's pinned host allocator)
    made = [torch.empty(3, pin_memory=True), torch.zeros(2, 2, pin_memory=True), torch.randn(3, pin_memory=True),
            torch.full((2,), 1.5, pin_memory=True), torch.arange(4, pin_memory=True), torch.tensor([1.0], pin_memory=True),
            torch.empty_strided((2, 2), (1, 2), pin_memory=True), torch.ones_like(torch.ones(2), pin_memory=True),
            torch.ones(2).new_zeros(3, pin_memory=True), torch.empty(3, device="cpu", pin_memory=True)]
    assert all(t.device.type == "cpu" and t.is_pinned() for t in made)
    assert made[3].tolist() == [1.5, 1.5] and made[6].stride() == (1, 2)
    assert not torch.empty(3).is_pinned() and not torch.empty(3, pin_memory=False).is_pinned()
    assert made[0].to("npu", non_blocking=True).device.type == "npu"
    # torch_npu refuses pinned NPU tensors (csrc/aten/common/TensorFactories.cpp)
    with pytest.raises(RuntimeError, match="Only dense CPU tensors can be pinned"):
        torch.empty(3, device="npu", pin_memory=True)
    # the wrapped factories still take the default device (torch.utils._device knows them by identity)
    with torch.device("npu:1"):
        assert torch.zeros(2).device == torch.randn(2).device == torch.device("npu:1")


def test_every_dense_factory_with_pin_memory_is_covered(sim):
    # the aten schemas say which factories take pin_memory; each public dense one must work pinned
    from ascend_compat.sim import pinned

    takes_pin_memory = {schema.name[len("aten::"):] for schema in torch._C._jit_get_all_schemas()
                        if schema.name.startswith("aten::") and any(a.name == "pin_memory" for a in schema.arguments)}
    public = {name for name in takes_pin_memory if hasattr(torch, name) and not name.startswith("_")}
    not_dense = {name for name in public if name.startswith("sparse_") or "quantized" in name}
    assert public - not_dense <= set(pinned.TORCH_FACTORIES)
    fft = {name[len("fft_"):] for name in takes_pin_memory if name.startswith("fft_") and hasattr(torch.fft, name[4:])}
    assert fft and fft <= set(pinned.FFT_FACTORIES)
    assert torch.fft.fftfreq(4, pin_memory=True).is_pinned() and torch.fft.rfftfreq(4, pin_memory=True).is_pinned()
    methods = {name for name in takes_pin_memory if name.startswith("new_") and hasattr(torch.Tensor, name)}
    assert methods <= set(pinned.TENSOR_FACTORIES)
    assert torch.hann_window(4, pin_memory=True).is_pinned() and torch.eye(2, pin_memory=True).is_pinned()


def test_torchscript_still_compiles_the_wrapped_factories(sim):
    scripted = torch.jit.script(_uses_factories)
    assert scripted(torch.ones(2)).tolist() == [2.0, 2.0]


def _uses_factories(x: torch.Tensor) -> torch.Tensor:
    return x + torch.zeros(2) + torch.ones_like(x)


def test_accelerator_api(sim):
    acc = torch.accelerator
    assert acc.is_available()
    assert acc.current_accelerator().type == "npu"
    assert acc.device_count() == 2
    acc.set_device_index(1)
    assert acc.current_device_index() == 1 == torch.npu.current_device()
    with acc.device_index(0):
        assert torch.npu.current_device() == 0
    before = acc.memory_allocated(0)
    keep = torch.empty(1024, device="npu:0")
    assert acc.memory_allocated(0) - before == 4608 and acc.max_memory_allocated(0) >= acc.memory_allocated(0)
    acc.synchronize()
    free, total = acc.get_memory_info(0)
    assert 0 < free <= total
    acc.empty_cache()
    del keep


def test_rng_is_per_device_and_seedable(sim):
    torch.manual_seed(3)
    a = torch.randn(4, device="npu")
    torch.manual_seed(3)
    b = torch.randn(4, device="npu")
    assert torch.equal(a.cpu(), b.cpu())
    torch.npu.manual_seed(5)
    cpu_state = torch.get_rng_state()
    torch.randn(4, device="npu")
    assert torch.equal(cpu_state, torch.get_rng_state()), "NPU random numbers must not consume the CPU generator"


def test_torchvision_forward_backward(sim):
    torchvision = pytest.importorskip("torchvision")
    net = torchvision.models.resnet18(num_classes=5).to("npu")
    out = net(torch.randn(2, 3, 32, 32, device="npu"))
    out.sum().backward()
    assert out.shape == (2, 5) and net.conv1.weight.grad.device.type == "npu"


def test_module_dtype_conversion_and_data_assignment(sim):
    model = torch.nn.Linear(256, 256).to("npu")
    weight = model.weight
    gc.collect()
    base = torch.npu.memory_allocated()
    model.half()
    assert model.weight is weight, "Module.half() keeps the Parameter objects (it assigns .data)"
    assert model.weight.dtype == torch.float16 and model.bias.dtype == torch.float16
    out = model(torch.randn(3, 256, device="npu", dtype=torch.float16))
    assert out.dtype == torch.float16
    gc.collect()  # Module._apply leaves a reference cycle behind
    assert torch.npu.memory_allocated() < base, "the float32 copies are freed"
    with pytest.raises(RuntimeError, match="not on npu"):
        model.weight.data = torch.zeros(256, 256)


def test_module_to_npu_inside_inference_mode(sim):
    with torch.inference_mode():
        model = torch.nn.Linear(2, 2).to("npu")
        assert model(torch.ones(1, 2, device="npu")).device.type == "npu"


def test_device_properties_have_torch_npus_fields(sim):
    # torch_npu (csrc/npu/Module.cpp): multi_processor_count is the vector core count, the CUDA-only
    # fields exist but are None, and the repr shows the device's uuid
    props = torch.npu.get_device_properties(0)
    assert props.multi_processor_count == props.vector_core_num > 0
    assert props.major is None and props.minor is None and props.warp_size is None
    assert len(props.uuid.bytes) == 16 and len(str(props.uuid)) == 36
    assert str(props.uuid) != str(torch.npu.get_device_properties(1).uuid)
    assert f"uuid={props.uuid}" in repr(props)


def test_module_moves_with_swapped_parameters(sim):
    """With torch.__future__.set_swap_module_params_on_conversion(True), Module.to() swaps each
    CPU Parameter with its NPU copy in place (torch.utils.swap_tensors): the objects stay the same."""
    previous = torch.__future__.get_swap_module_params_on_conversion()
    torch.__future__.set_swap_module_params_on_conversion(True)
    try:
        model = torch.nn.Linear(2, 2)
        weight = model.weight
        model.to("npu")
        assert model.weight is weight and weight.device.type == "npu"
        model(torch.ones(1, 2, device="npu")).sum().backward()
        assert weight.grad.device.type == "npu"
    finally:
        torch.__future__.set_swap_module_params_on_conversion(previous)


def test_a_result_sharing_its_inputs_storage_is_counted_once(sim):
    """``_unsafe_view`` (what matmul reshapes with) returns a new tensor on its input's storage
    without being a view in its schema: the device memory is the storage's, counted once."""
    x = torch.ones(256, 1024, device="npu")
    gc.collect()
    held = torch.npu.memory_allocated()
    y = torch.ops.aten._unsafe_view(x, (1024, 256))
    assert torch.npu.memory_allocated() == held
    del x
    gc.collect()
    assert torch.npu.memory_allocated() == held, "y still holds the storage"
    del y
    gc.collect()
    assert torch.npu.memory_allocated() == held - ((1 << 20) + 512)
