"""Samples-style pyACL classification (the shape of Ascend/samples' resnet50 acl_net.py).

Runs unchanged on a real Ascend machine (real pyACL) or under ``ascend-lab run`` (simulator).

    python classify_digits.py --model_path ../model/digitnet.om --images_path ../data

For each image: decode, preprocess on the host (unless the .om has AIPP and takes uint8 images),
copy to the device, execute, copy back, print the top-5 classes. Every resource is released.
"""
import argparse
import os

import numpy as np
from PIL import Image

import acl

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_FLOAT = 0
ACL_UINT8 = 4
IMG_EXT = [".jpg", ".JPG", ".png", ".PNG", ".bmp", ".BMP", ".jpeg", ".JPEG"]
MEAN, STD = 127.5, 127.5


def check_ret(message, ret):
    if ret != ACL_SUCCESS:
        raise Exception("{} failed ret={}".format(message, ret))


class Net(object):
    def __init__(self, device_id, model_path):
        self.device_id = device_id
        ret = acl.init()
        check_ret("acl.init", ret)
        ret = acl.rt.set_device(device_id)
        check_ret("acl.rt.set_device", ret)
        self.context, ret = acl.rt.create_context(device_id)
        check_ret("acl.rt.create_context", ret)
        self.model_id, ret = acl.mdl.load_from_file(model_path)
        check_ret("acl.mdl.load_from_file", ret)
        self.model_desc = acl.mdl.create_desc()
        ret = acl.mdl.get_desc(self.model_desc, self.model_id)
        check_ret("acl.mdl.get_desc", ret)
        dims, ret = acl.mdl.get_input_dims(self.model_desc, 0)
        check_ret("acl.mdl.get_input_dims", ret)
        self.input_dims = dims["dims"]
        self.input_type = acl.mdl.get_input_data_type(self.model_desc, 0)
        self.input_size = acl.mdl.get_input_size_by_index(self.model_desc, 0)
        self.output_size = acl.mdl.get_output_size_by_index(self.model_desc, 0)
        self.input_buffer, ret = acl.rt.malloc(self.input_size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc", ret)
        self.output_buffer, ret = acl.rt.malloc(self.output_size, ACL_MEM_MALLOC_HUGE_FIRST)
        check_ret("acl.rt.malloc", ret)

    def preprocess(self, path):
        with Image.open(path) as image:
            image = image.convert("RGB")
            if self.input_type == ACL_UINT8:  # AIPP model: NHWC uint8 of the source size
                _, h, w, _ = self.input_dims
                return np.ascontiguousarray(np.array(image.resize((w, h)), dtype=np.uint8)[None])
            _, _, h, w = self.input_dims
            img = np.array(image.resize((w, h)), dtype=np.float32)
        img = (img - MEAN) / STD
        return np.ascontiguousarray(img.transpose(2, 0, 1)[None])

    def run(self, data):
        bytes_data = data.tobytes()
        ptr = acl.util.bytes_to_ptr(bytes_data)
        ret = acl.rt.memcpy(self.input_buffer, self.input_size, ptr, len(bytes_data), ACL_MEMCPY_HOST_TO_DEVICE)
        check_ret("acl.rt.memcpy", ret)
        input_dataset = acl.mdl.create_dataset()
        input_db = acl.create_data_buffer(self.input_buffer, self.input_size)
        _, ret = acl.mdl.add_dataset_buffer(input_dataset, input_db)
        check_ret("acl.mdl.add_dataset_buffer", ret)
        output_dataset = acl.mdl.create_dataset()
        output_db = acl.create_data_buffer(self.output_buffer, self.output_size)
        _, ret = acl.mdl.add_dataset_buffer(output_dataset, output_db)
        check_ret("acl.mdl.add_dataset_buffer", ret)

        ret = acl.mdl.execute(self.model_id, input_dataset, output_dataset)
        check_ret("acl.mdl.execute", ret)

        host_buffer, ret = acl.rt.malloc_host(self.output_size)
        check_ret("acl.rt.malloc_host", ret)
        ret = acl.rt.memcpy(host_buffer, self.output_size, self.output_buffer, self.output_size,
                            ACL_MEMCPY_DEVICE_TO_HOST)
        check_ret("acl.rt.memcpy", ret)
        dims, ret = acl.mdl.get_cur_output_dims(self.model_desc, 0)
        check_ret("acl.mdl.get_cur_output_dims", ret)
        result = np.frombuffer(acl.util.ptr_to_bytes(host_buffer, self.output_size), dtype=np.float32)
        result = result.reshape(tuple(dims["dims"]))
        ret = acl.rt.free_host(host_buffer)
        check_ret("acl.rt.free_host", ret)

        for dataset, buffer in ((input_dataset, input_db), (output_dataset, output_db)):
            ret = acl.destroy_data_buffer(buffer)
            check_ret("acl.destroy_data_buffer", ret)
            ret = acl.mdl.destroy_dataset(dataset)
            check_ret("acl.mdl.destroy_dataset", ret)
        return result

    def release(self):
        ret = acl.rt.free(self.input_buffer)
        check_ret("acl.rt.free", ret)
        ret = acl.rt.free(self.output_buffer)
        check_ret("acl.rt.free", ret)
        ret = acl.mdl.unload(self.model_id)
        check_ret("acl.mdl.unload", ret)
        ret = acl.mdl.destroy_desc(self.model_desc)
        check_ret("acl.mdl.destroy_desc", ret)
        ret = acl.rt.destroy_context(self.context)
        check_ret("acl.rt.destroy_context", ret)
        ret = acl.rt.reset_device(self.device_id)
        check_ret("acl.rt.reset_device", ret)
        ret = acl.finalize()
        check_ret("acl.finalize", ret)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--model_path", type=str, required=True)
    parser.add_argument("--images_path", type=str, required=True)
    args = parser.parse_args()
    net = Net(args.device, args.model_path)
    images = sorted(f for f in os.listdir(args.images_path) if os.path.splitext(f)[1] in IMG_EXT)
    for name in images:
        logits = net.run(net.preprocess(os.path.join(args.images_path, name))).flatten()
        probs = softmax(logits.astype(np.float64))
        top_k = probs.argsort()[-1:-6:-1]
        print("image: {}".format(name))
        print("======== top5 inference results: =============")
        for j in top_k:
            print("[%d]: %f" % (j, probs[j]))
    net.release()
    print("*****run finish******")
