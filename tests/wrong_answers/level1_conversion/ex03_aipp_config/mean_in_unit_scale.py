# cell: aipp_rgb_config_answer
# fails: aipp_rgb_config_visible, aipp_rgb_config_hidden
# The torchvision means copied as they are: AIPP subtracts them from 0..255 pixels, not from 0..1 ones.
AIPP_RGB = """
aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 288
    src_image_size_h : 256
    crop : true
    load_start_pos_h : 16
    load_start_pos_w : 32
    crop_size_w : 224
    crop_size_h : 224
    min_chn_0 : 0.485
    min_chn_1 : 0.456
    min_chn_2 : 0.406
    var_reci_chn_0 : 0.0171247538
    var_reci_chn_1 : 0.0175070028
    var_reci_chn_2 : 0.0174291939
}
"""
