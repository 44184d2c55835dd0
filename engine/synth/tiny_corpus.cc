// Text the embedded tiny model's SentencePiece tokenizer is trained on (by
// spm_train, at first use): English and Chinese video prompts written for this
// project (written out three times for training).
#include "engine/synth/tiny_model_writer.h"

namespace videogen::synth {

const char kTinyTokenizerCorpus[] = R"corpus(A cat walks slowly across a wooden floor, the camera pans slowly.
A red sports car drives through a neon-lit city street at night.
Waves crash against a rocky shore under a grey sky.
A small boat sails on a calm lake at sunrise, mist over the water.
An astronaut floats inside a space station, looking at the earth.
A golden retriever runs through a field of tall grass in summer.
Snow falls on a quiet mountain village in the evening light.
A chef slices vegetables on a cutting board in a busy kitchen.
Two people dance in the rain on an empty street.
A hot air balloon rises above green hills and a winding river.
Close-up of a flower opening its petals in time-lapse.
A train crosses a bridge over a deep valley, clouds below.
Children fly kites on a windy beach, bright colours in the sky.
A lighthouse stands on a cliff while a storm approaches.
A musician plays the violin on a stage with warm spotlights.
Leaves fall from an old oak tree in a park in autumn.
A robot walks through a futuristic city with glass towers.
A horse gallops along the beach at sunset, splashing water.
Fireworks explode over a river, reflected in the dark water.
A coffee cup steams on a table beside a rainy window.
一只猫慢慢地走过木地板，镜头缓缓平移。
夜晚，一辆红色跑车穿过霓虹灯照亮的城市街道。
海浪拍打着岩石海岸，天空灰暗。
雪花飘落在安静的山村，傍晚的灯光温暖。
色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走
镜头晃动，画面稳定，光线柔和，色彩自然。
The quick brown fox jumps over the lazy dog while the camera zooms in.
Slow motion shot of water droplets falling into a glass bowl.
Aerial view of a forest with a river, drone flying forward.
A woman reads a book by the fireplace, soft light, cozy room.
Street market at noon, people walking, vendors selling fruit.
Clouds move quickly over a desert, long shadows on the sand.
A butterfly lands on a leaf, macro lens, shallow depth of field.
Night sky full of stars, the milky way rotates slowly.
An old man feeds pigeons in a city square in the morning.
Rain drops run down the window of a moving car at night.)corpus";

}  // namespace videogen::synth
